#!/usr/bin/env python3
"""Tests of the CUDA emulator's source rewriter (emu/rewrite_launches.py).

The ctest emu:rewrite_launches runs this file (EMU builds); it needs only the
standard library and also runs under pytest:
    python3 tests/emu/test_rewrite_launches.py
    python3 -m pytest tests/emu/test_rewrite_launches.py
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "emu", "rewrite_launches.py")
FIXTURE = os.path.join(HERE, "rewrite_launches_fixture.cu")
EXPECTED = os.path.join(HERE, "rewrite_launches_fixture.expected")
FIXTURE_NAME = "tests/emu/rewrite_launches_fixture.cu"

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(SCRIPT))
import rewrite_launches as rw  # noqa: E402


def launch(label, cfg, kernel, args):
    """The text rewrite_launches makes of one single-line launch."""
    return ('::emu::launch("%s", ::emu::LaunchCfg(%s), [&](auto&... a_) __attribute__((no_instrument_function)) '
            '{ ::emu::before_kernel(); %s(a_...); }%s%s)') % (label, cfg, kernel, ", " if args else "", args)


class RewriteLaunches(unittest.TestCase):
    def rewrite(self, text):
        out = rw.rewrite(text, "f.cu")
        self.assertEqual(out.count("\n"), text.count("\n"), "the rewrite keeps the line count")
        return out

    def test_plain_launch(self):
        self.assertEqual(self.rewrite("k<<<g, b>>>(x, n);\n"),
                         launch("k at f.cu:1", "g, b", "k", "x, n") + ";\n")
        self.assertEqual(self.rewrite("\n\nk<<<1, 2, 3, s>>>();"),
                         "\n\n" + launch("k at f.cu:3", "1, 2, 3, s", "k", "") + ";")

    def test_launch_in_comments_is_left_alone(self):
        for text in ("// k<<<1, 1>>>(x);\n",
                     "/* k<<<1, 1>>>(x); */\n",
                     "/* several\n   k<<<1, 1>>>(x);\n lines */\n",
                     "// a spliced comment \\\n k<<<1, 1>>>(x);\n",
                     "x = 1; /* k<<<1, 1>>>(x) */ y = 2;\n"):
            self.assertEqual(self.rewrite(text), text)

    def test_launch_in_literals_is_left_alone(self):
        for text in ('const char* s = "k<<<1, 1>>>(x)";\n',
                     'const char* s = "escaped \\" k<<<1, 1>>>(x) \\"";\n',
                     'const char* s = R"(k<<<1, 1>>>(x))";\n',
                     'const char* s = R"d(k<<<1, 1>>>(x) )" still raw)d";\n',
                     'const char* s = u8R"(k<<<1,\n1>>>(x))";\n',
                     "const char c = '<', d = '\\'';\n"):
            self.assertEqual(self.rewrite(text), text)

    def test_brackets_in_comments_and_literals_do_not_count(self):
        out = self.rewrite('k<<<g, b>>>(x, ")", \'(\' /* ( */, y);\n')
        self.assertEqual(out, launch("k at f.cu:1", "g, b", "k", 'x, ")", \'(\' /* ( */, y') + ";\n")
        # A comment between >>> and the arguments, and a // comment inside them.
        out = self.rewrite("k<<<g, b>>> /* ) */ (x,  // y)\n  z);\n")
        self.assertIn("{ ::emu::before_kernel(); k(a_...); }, x,  // y)\n  z);", out)

    def test_digit_separators_are_not_character_literals(self):
        out = self.rewrite("const int n = 1'000'000;\nk<<<n / 1'000, 256>>>(x);\n")
        self.assertIn(launch("k at f.cu:2", "n / 1'000, 256", "k", "x"), out)

    def test_nested_templates_and_parentheses(self):
        out = self.rewrite("ns::k<Vec<float, 4>, Pair<A<1>, B>><<<dim3(f(a), (b)), cast<int>(n), "
                           "sizeof(Vec<int, 2>)>>>(std::pair<int, Vec<int, 2>>(1, {}), g((x)));\n")
        self.assertEqual(out, launch("ns::k<Vec<float, 4>, Pair<A<1>, B>> at f.cu:1",
                                     "dim3(f(a), (b)), cast<int>(n), sizeof(Vec<int, 2>)",
                                     "ns::k<Vec<float, 4>, Pair<A<1>, B>>",
                                     "std::pair<int, Vec<int, 2>>(1, {}), g((x))") + ";\n")

    def test_qualifying_template_ids(self):
        out = self.rewrite("  Outer<Vec<T>>::inner<3><<<1, 1>>>(v);\n")
        self.assertEqual(out, "  " + launch("Outer<Vec<T>>::inner<3> at f.cu:1", "1, 1", "Outer<Vec<T>>::inner<3>", "v")
                         + ";\n")

    def test_kernel_expression_keeps_character_literals_and_drops_comments(self):
        out = self.rewrite("k<'a'> /* the kernel */ <<<1, 1>>>();\n")
        self.assertEqual(out, launch("k<'a'> at f.cu:1", "1, 1", "k<'a'>", "") + ";\n")

    def test_multi_line_launch_keeps_line_numbers(self):
        text = "k<<<g,\n   b>>>(x,\n      y);\nafter;\n"
        out = self.rewrite(text)
        self.assertTrue(out.endswith("\nafter;\n"))
        self.assertEqual(out.splitlines()[3], "after;")

    def test_errors(self):
        with self.assertRaises(ValueError):
            rw.rewrite("k<<<1, 1>>>(x;\n", "f.cu")  # unbalanced
        with self.assertRaises(ValueError):
            rw.rewrite("k<<<1, 1>>> x;\n", "f.cu")  # no argument list
        with self.assertRaises(ValueError):
            rw.rewrite('const char* s = R"(never closed;\n', "f.cu")


class RewriteSmem(unittest.TestCase):
    def test_declaration(self):
        self.assertEqual(rw.rewrite("extern __shared__ __align__(16) unsigned char buf[];\n", "f.cu"),
                         "unsigned char* buf = reinterpret_cast<unsigned char*>(::emu::dynamic_smem());\n")
        self.assertEqual(rw.rewrite("extern __shared__\n  float\n  s[];\nx;\n", "f.cu"),
                         "float* s = reinterpret_cast<float*>(::emu::dynamic_smem());\n\n\nx;\n")

    def test_comments_and_literals_are_left_alone(self):
        for text in ("// extern __shared__ float s[];\n",
                     "/* extern __shared__ float s[]; */\n",
                     'const char* d = "extern __shared__ float s[];";\n'):
            self.assertEqual(rw.rewrite(text, "f.cu"), text)


class Fixture(unittest.TestCase):
    """The script on a file with launches among comments and literals, against the expected output."""

    def test_fixture(self):
        with open(EXPECTED) as f:
            expected = f.read()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "sub", "fixture.cu.cpp")
            subprocess.run([sys.executable, SCRIPT, FIXTURE, out, FIXTURE_NAME], check=True)
            with open(out) as f:
                got = f.read()
        self.assertEqual(got, '#line 1 "%s"\n' % FIXTURE + expected)


if __name__ == "__main__":
    unittest.main()
