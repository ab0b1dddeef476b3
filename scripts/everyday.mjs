// Everyday standard-library code of the kind agents write, for the benchmark's mix: each snippet
// runs on its own (a fresh interpreter for each, as the server gives every call).
export const EVERYDAY = [
  'import re\nprint(re.compile(r"(\\d+)-(\\d+)").findall("1-2 3-4 5-6"))',
  'import json\ndata = {"a": [1, 2, {"b": None}], "c": "é"}\nprint(json.loads(json.dumps(data)) == data)',
  'import argparse\np = argparse.ArgumentParser()\np.add_argument("--n", type=int, default=1)\nprint(p.parse_args(["--n", "3"]).n)',
  'from email.message import EmailMessage\nm = EmailMessage()\nm["Subject"] = "hi"\nm.set_content("body")\nprint(m.as_string()[:20])',
  'import email.policy\nprint(email.policy.default.max_line_length)',
  'import xml.etree.ElementTree as ET\nprint(ET.fromstring("<a><b>1</b><b>2</b></a>").findall("b")[1].text)',
  'import collections\nprint(collections.Counter("mississippi").most_common(2))',
  'import datetime\nd = datetime.date(2024, 2, 28)\nprint(d + datetime.timedelta(days=1), d.strftime("%A"))',
  'import statistics\nprint(statistics.mean([1, 2, 3, 4]), statistics.stdev([1, 2, 3, 4]))',
  'import csv, io\nprint(list(csv.DictReader(io.StringIO("a,b\\n1,2\\n3,4"))))',
  'import dataclasses\n@dataclasses.dataclass\nclass P:\n    x: int\n    y: int = 0\nprint(P(1), dataclasses.asdict(P(2, 3)))',
  'import itertools\nprint(list(itertools.permutations("abc", 2))[:4])',
  'import math\nprint(math.factorial(20), math.gcd(84, 36), round(math.sqrt(2), 6))',
  'import hashlib, base64\nprint(hashlib.sha256(b"abc").hexdigest()[:16], base64.b64encode(b"hello"))',
  'import textwrap\nprint(textwrap.fill("lorem ipsum dolor sit amet " * 4, 30))',
  'import random\nrandom.seed(1)\nprint(sorted(random.sample(range(100), 5)))',
  'import decimal, fractions\nprint(decimal.Decimal("1.1") + decimal.Decimal("2.2"), fractions.Fraction(1, 3) * 3)',
  'import unittest, io\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEqual(1 + 1, 2)\nr = unittest.TextTestRunner(stream=io.StringIO()).run(unittest.defaultTestLoader.loadTestsFromTestCase(T))\nprint(r.wasSuccessful())',
  'import logging\nlogging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")\nlogging.getLogger("app").info("started")',
  'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n[fib(i) for i in range(15)]',
];
