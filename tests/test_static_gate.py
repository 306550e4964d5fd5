"""The static gate refuses, with the line, only what a tool has no business doing and what would
reach past its own run; everyday standard-library code passes (the host judges the verdict, the
sandbox holds the code)."""

from __future__ import annotations

import pytest

from tui_agent.core.sandbox.static_gate import GateError, gate_tool

# Thirty everyday tools, each leaning on a different part of the standard library.
EVERYDAY = {
    "os.path": "import os.path\ndef f(p: str) -> str:\n    return os.path.splitext(os.path.basename(p))[1]\n",
    "os": "import os\ndef f(p: str) -> str:\n    return os.path.join(os.sep, p, os.getcwd())\n",
    "shutil.which": "import shutil\ndef f(name: str) -> bool:\n    return shutil.which(name) is not None\n",
    "tempfile": "import tempfile\ndef f(text: str) -> str:\n    with tempfile.TemporaryFile('w+') as t:\n        t.write(text)\n        t.seek(0)\n        return t.read()\n",
    "threading": "import threading\ndef f(n: int) -> int:\n    out = []\n    t = threading.Thread(target=lambda: out.append(n * 2))\n    t.start()\n    t.join()\n    return out[0]\n",
    "concurrent.futures": "from concurrent.futures import ThreadPoolExecutor\ndef f(xs: list) -> list:\n    with ThreadPoolExecutor(2) as pool:\n        return list(pool.map(abs, xs))\n",
    "functools": "import functools\n@functools.lru_cache(None)\ndef f(n: int) -> int:\n    return n if n < 2 else f(n - 1) + f(n - 2)\n",
    "builtins": "import builtins\ndef f(xs: list) -> int:\n    return builtins.sum(xs)\n",
    "collections": "from collections import Counter\ndef f(text: str) -> dict:\n    return dict(Counter(text.split()))\n",
    "itertools": "import itertools\ndef f(xs: list) -> list:\n    return [list(p) for p in itertools.permutations(xs)]\n",
    "re": "import re\ndef f(text: str) -> list:\n    return re.findall(r'\\d+', text)\n",
    "datetime": "from datetime import date\ndef f(a: str, b: str) -> int:\n    return (date.fromisoformat(b) - date.fromisoformat(a)).days\n",
    "statistics": "import statistics\ndef f(xs: list) -> float:\n    return statistics.pstdev(xs)\n",
    "math": "import math\ndef f(r: float) -> float:\n    return math.pi * r ** 2\n",
    "fractions": "from fractions import Fraction\ndef f(a: int, b: int) -> str:\n    return str(Fraction(a, b))\n",
    "decimal": "from decimal import Decimal, ROUND_HALF_UP\ndef f(x: str) -> str:\n    return str(Decimal(x).quantize(Decimal('0.01'), ROUND_HALF_UP))\n",
    "json": "import json\ndef f(text: str, key: str) -> str:\n    return json.loads(text)[key]\n",
    "csv+io": "import csv, io\ndef f(text: str) -> int:\n    return len(list(csv.reader(io.StringIO(text))))\n",
    "string+textwrap": "import string, textwrap\ndef f(text: str) -> str:\n    return textwrap.fill(string.capwords(text), 20)\n",
    "unicodedata": "import unicodedata\ndef f(text: str) -> str:\n    return unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()\n",
    "hashlib+base64": "import hashlib, base64\ndef f(text: str) -> str:\n    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()\n",
    "heapq+bisect": "import heapq, bisect\ndef f(xs: list, k: int) -> list:\n    out = heapq.nsmallest(k, xs)\n    bisect.insort(out, 0)\n    return out\n",
    "random": "import random\ndef f(seed: int) -> int:\n    return random.Random(seed).randint(1, 6)\n",
    "calendar": "import calendar\ndef f(year: int) -> bool:\n    return calendar.isleap(year)\n",
    "zoneinfo": "from zoneinfo import ZoneInfo\nfrom datetime import datetime\ndef f(ts: str) -> str:\n    return datetime.fromisoformat(ts).astimezone(ZoneInfo('UTC')).isoformat()\n",
    "difflib": "import difflib\ndef f(a: str, b: str) -> float:\n    return difflib.SequenceMatcher(None, a, b).ratio()\n",
    "operator+dataclasses+enum": "import operator, dataclasses, enum\nclass C(enum.Enum):\n    A = 1\n@dataclasses.dataclass\nclass P:\n    x: int\ndef f(xs: list) -> list:\n    return sorted(xs, key=operator.itemgetter(0))\n",
    "inspect+eval": "import inspect\ndef f(expr: str) -> float:\n    assert inspect.isfunction(f)\n    return eval(expr, {'__builtins__': {}})\n",
    "urllib.parse+html": "import html\nfrom urllib.parse import urlparse\ndef f(url: str) -> str:\n    return html.escape(urlparse(url).netloc)\n",
    "ipaddress+uuid": "import ipaddress, uuid\ndef f(a: str) -> bool:\n    return ipaddress.ip_address(a).is_private and bool(uuid.NAMESPACE_DNS)\n",
}


def test_thirty_everyday_tools_pass_the_gate() -> None:
    assert len(EVERYDAY) == 30
    for source in EVERYDAY.values():
        gate_tool(source, "f")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("import ctypes", "import ctypes"),
        ("from ctypes import CDLL", "from ctypes import"),
        ("import subprocess", "import subprocess"),
        ("from multiprocessing import Pool", "from multiprocessing import"),
        ("import os\nos.system('id')", "os.system"),
        ("import os as o\no.fork()", "os.fork"),
        ("from os import execv", "os.execv"),
        ("import os\nos.kill(1, 9)", "os.kill"),
        ("import socket", "import socket"),
        ("import urllib.request", "import urllib.request"),
        ("from urllib import request", "from urllib import request"),
        ("from http.client import HTTPConnection", "from http.client import"),
        ("from . import helper", "a relative import"),
    ],
)
def test_refused_constructs_name_their_line_and_why(line: str, what: str) -> None:
    source = "x = 1\n" + line + "\ndef f():\n    return 1\n"
    with pytest.raises(GateError) as info:
        gate_tool(source, "f")
    message = str(info.value)
    assert what in message and "is not allowed in a tool (" in message
    assert "line " in message and "line 1:" not in message and "\n" not in message


def test_tool_must_define_the_function_and_parse() -> None:
    with pytest.raises(GateError, match="defines no top-level function 'f'"):
        gate_tool("def g():\n    return 1\n", "f")
    with pytest.raises(GateError, match="line 1: does not parse"):
        gate_tool("def f(:\n", "f")
