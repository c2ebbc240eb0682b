#!/usr/bin/env python3
"""Turns a .cu/.cuh file into host C++ for loom's CUDA emulator.

Two rewrites, nothing else (the rest is handled by emu_device.h):
  kernel<<<grid, block[, smem[, stream]]>>>(args)
      -> ::emu::launch("kernel at file:line", ::emu::LaunchCfg(grid, block[, ...]),
                       [&](auto&... a_) NOHOOK { ::emu::before_kernel(); kernel(a_...); }, args)
     (NOHOOK: __attribute__((no_instrument_function)), so that with the entry
     hooks of an EMU build the first function entered after before_kernel()
     is the kernel itself: see emu_device.h)
  extern __shared__ [__align__(n)] T name[];
      -> T* name = reinterpret_cast<T*>(::emu::dynamic_smem());
A #line directive keeps compiler messages pointing at the original file, and
each rewrite keeps the line count so later lines keep their numbers.

The source is tokenized first (code_view): comments, string literals (raw
strings included) and character literals are masked, so a `<<<`, a bracket or
a declaration inside them is neither rewritten nor counted when matching the
brackets of a launch.

usage: rewrite_launches.py SOURCE OUTPUT [DISPLAY_NAME]
"""
import os
import re
import sys

SMEM = re.compile(r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s+)?([A-Za-z_][\w:\s\*]*?)\s+(\w+)\s*\[\s*\]\s*;")
RAW_PREFIXES = ("R", "LR", "uR", "UR", "u8R")
IDENT = re.compile(r"[A-Za-z0-9_]")
SPECIAL = re.compile(r"[/\"']")


def _token_before(text, i):
    """The identifier or pp-number characters that end right before offset i."""
    j = i
    while j > 0 and (IDENT.match(text[j - 1]) or text[j - 1] == "."):
        j -= 1
    return text[j:i]


def _is_pp_number(token):
    return token[:1].isdigit() or (token[:1] == "." and token[1:2].isdigit())


def code_view(text, literals=True):
    """A copy of text, as long and with the same newlines, that keeps only code.

    Comments become spaces (as the compiler sees them); with literals, the
    contents of string and character literals become '_' (their quotes stay).
    Line splices (backslash-newline) are followed in comments and literals. A
    literal left open at the end of its line (an apostrophe in the text of an
    #error, say) ends there, as the preprocessor's warning has it.
    """
    out = list(text)
    n = len(text)

    def blank(a, b, fill):
        for x in range(a, b):
            if out[x] != "\n":
                out[x] = fill

    i = 0
    while True:
        m = SPECIAL.search(text, i)
        if not m:
            break
        i = m.start()
        c = text[i]
        if text.startswith("//", i):
            j = i + 2
            while j < n and text[j] != "\n":
                if text[j] == "\\":  # a splice continues the comment on the next line
                    j += 3 if text.startswith("\r\n", j + 1) else 2
                else:
                    j += 1
            blank(i, min(j, n), " ")
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j, " ")
            i = j
        elif c == "/":
            i += 1
        elif c == "'" and _is_pp_number(_token_before(text, i)):  # a digit separator: 1'000'000
            i += 1
        else:
            if c == '"' and _token_before(text, i) in RAW_PREFIXES:
                # R"delim( ... )delim": no escapes, no splices inside.
                open_paren = text.find("(", i + 1)
                close = text.find(")" + text[i + 1:open_paren] + '"', open_paren + 1) if open_paren >= 0 else -1
                if close < 0:
                    raise ValueError("unterminated raw string literal at offset %d" % i)
                body_end, end = close + (open_paren - i), close + (open_paren - i) + 1
            else:
                body_end, end = _literal_end(text, i, c)
            if literals:
                blank(i + 1, body_end, "_")
            i = end
    return "".join(out)


def _literal_end(text, start, quote):
    """(end of the contents, end of the literal) for the literal whose opening quote is at start."""
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 3 if text.startswith("\r\n", i + 1) else 2
        elif c == quote:
            return i, i + 1
        elif c == "\n":
            return i, i
        else:
            i += 1
    return n, n


def match_bracket(code, idx, open_ch, close_ch, step):
    """Index of the bracket matching the one at idx, scanning by step (-1: backwards from a closer)."""
    depth = 0
    i = idx
    while 0 <= i < len(code):
        c = code[i]
        if c == (close_ch if step < 0 else open_ch):
            depth += 1
        elif c == (open_ch if step < 0 else close_ch):
            depth -= 1
            if depth == 0:
                return i
        i += step
    raise ValueError("unbalanced %s%s at offset %d" % (open_ch, close_ch, idx))


def find_launch_close(code, start):
    """Offset of the `>>>` that closes a launch configuration opened before start:
    the first one outside parentheses, brackets and braces."""
    depth = 0
    i = start
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and code.startswith(">>>", i):
            return i
        i += 1
    return -1


def kernel_start(code, k):
    """Start of the kernel expression that ends right before the `<<<` at k: an
    identifier, maybe qualified with ::, maybe a template-id, whose qualifiers
    may be template-ids too (ns::Outer<T>::kernel<U>)."""
    j = k - 1
    while j >= 0 and code[j].isspace():
        j -= 1
    while True:
        if j >= 0 and code[j] == ">":
            j = match_bracket(code, j, "<", ">", -1) - 1
            while j >= 0 and code[j].isspace():
                j -= 1
        while j >= 0 and (code[j].isalnum() or code[j] in "_:"):
            j -= 1
        # Outer<T>::kernel: the scan stopped at the '>' of a qualifying template-id.
        if j >= 0 and code[j] == ">" and code.startswith("::", j + 1):
            continue
        return j + 1


def rewrite_launches(text, name):
    code = code_view(text)
    no_comments = None  # the kernel expression keeps its literals (kernel<'a'>)
    out = []
    pos = 0
    while True:
        k = code.find("<<<", pos)
        if k < 0:
            out.append(text[pos:])
            break
        start = kernel_start(code, k)
        if start < pos or start == k:
            raise ValueError("%s: cannot find the kernel before offset %d" % (name, k))
        if no_comments is None:
            no_comments = code_view(text, literals=False)
        kernel = re.sub(r"\s+", " ", no_comments[start:k].strip())
        e = find_launch_close(code, k + 3)
        if e < 0:
            raise ValueError("%s: no >>> closes the launch at offset %d" % (name, k))
        cfg = text[k + 3:e]
        p = e + 3
        while p < len(code) and code[p].isspace():
            p += 1
        if p >= len(code) or code[p] != "(":
            raise ValueError("%s: expected '(' after >>> at offset %d" % (name, p))
        q = match_bracket(code, p, "(", ")", 1)
        args = text[p + 1:q]
        line = text.count("\n", 0, k) + 1
        label = "%s at %s:%d" % (kernel, name, line)
        new = ('::emu::launch("%s", ::emu::LaunchCfg(%s), [&](auto&... a_) __attribute__((no_instrument_function)) '
               '{ ::emu::before_kernel(); %s(a_...); }%s%s)') % (
            label.replace("\\", "\\\\").replace('"', '\\"'), cfg, kernel, ", " if code[p + 1:q].strip() else "",
            args)
        old = text[start:q + 1]
        new += "\n" * max(0, old.count("\n") - new.count("\n"))
        out.append(text[pos:start])
        out.append(new)
        pos = q + 1
    return "".join(out)


def rewrite_smem(text):
    code = code_view(text)
    out = []
    pos = 0
    for m in SMEM.finditer(code):
        t, n = re.sub(r"\s+", " ", m.group(1).strip()), m.group(2)
        out.append(text[pos:m.start()])
        out.append("%s* %s = reinterpret_cast<%s*>(::emu::dynamic_smem());" % (t, n, t) + "\n" * m.group(0).count("\n"))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def rewrite(text, name):
    """Both rewrites, as applied to a file (without the #line directive)."""
    return rewrite_launches(rewrite_smem(text), name)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else src
    with open(src) as f:
        text = f.read()
    body = rewrite(text, name)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w") as f:
        f.write('#line 1 "%s"\n' % src)
        f.write(body)


if __name__ == "__main__":
    main()
