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

usage: rewrite_launches.py SOURCE OUTPUT [DISPLAY_NAME]
"""
import os
import re
import sys

SMEM = re.compile(r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s+)?([A-Za-z_][\w:\s\*]*?)\s+(\w+)\s*\[\s*\]\s*;")


def match_bracket(text, idx, open_ch, close_ch, step):
    """Index of the bracket matching the one at idx, scanning by step (-1: backwards from a closer)."""
    depth = 0
    i = idx
    while 0 <= i < len(text):
        c = text[i]
        if c == (close_ch if step < 0 else open_ch):
            depth += 1
        elif c == (open_ch if step < 0 else close_ch):
            depth -= 1
            if depth == 0:
                return i
        i += step
    raise ValueError("unbalanced %s%s at offset %d" % (open_ch, close_ch, idx))


def rewrite_launches(text, name):
    out = []
    pos = 0
    while True:
        k = text.find("<<<", pos)
        if k < 0:
            out.append(text[pos:])
            break
        # the kernel expression: an identifier, maybe with ::, maybe a template-id
        j = k - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        if text[j] == ">":
            j = match_bracket(text, j, "<", ">", -1) - 1
        while j >= 0 and (text[j].isalnum() or text[j] in "_:"):
            j -= 1
        start = j + 1
        if start < pos:
            raise ValueError("%s: cannot find the kernel before offset %d" % (name, k))
        kernel = text[start:k].strip()
        e = text.find(">>>", k)
        cfg = text[k + 3:e]
        p = e + 3
        while text[p].isspace():
            p += 1
        if text[p] != "(":
            raise ValueError("%s: expected '(' after >>> at offset %d" % (name, p))
        q = match_bracket(text, p, "(", ")", 1)
        args = text[p + 1:q]
        line = text.count("\n", 0, k) + 1
        label = "%s at %s:%d" % (re.sub(r"\s+", " ", kernel), name, line)
        new = ('::emu::launch("%s", ::emu::LaunchCfg(%s), [&](auto&... a_) __attribute__((no_instrument_function)) '
               '{ ::emu::before_kernel(); %s(a_...); }%s%s)') % (
            label.replace('"', '\\"'), cfg, kernel, ", " if args.strip() else "", args)
        old = text[start:q + 1]
        new += "\n" * max(0, old.count("\n") - new.count("\n"))
        out.append(text[pos:start])
        out.append(new)
        pos = q + 1
    return "".join(out)


def rewrite_smem(text):
    def repl(m):
        t, n = m.group(1).strip(), m.group(2)
        return "%s* %s = reinterpret_cast<%s*>(::emu::dynamic_smem());" % (t, n, t) + "\n" * m.group(0).count("\n")
    return SMEM.sub(repl, text)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else src
    with open(src) as f:
        text = f.read()
    body = rewrite_launches(rewrite_smem(text), name)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w") as f:
        f.write('#line 1 "%s"\n' % src)
        f.write(body)


if __name__ == "__main__":
    main()
