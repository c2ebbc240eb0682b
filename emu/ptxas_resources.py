#!/usr/bin/env python3
"""The sm_90 resource table of loom's CUDA kernels for the emulator's launch records.

ptxas decides what a kernel costs on the GPU: registers per thread, static
shared memory per block and local memory (stack frame, spills) per thread.
The emulator cannot know these, so an EMU build collects them at build time
from one of two sources and compiles them into libloom as a table keyed by
the kernel's demangled name (return type and parameter list removed, e.g.
"loom::kernels::cuda::(anonymous namespace)::conv_bias_add_kernel<float>"),
the form the emulator derives from its own symbols:

  binary  the sm_90 cubins inside an nvcc-built library or object
          (LOOM_EMU_RESOURCES_FROM, e.g. the CUDA build's libloom.so): the
          .nv_fatbin section is walked here, as cuobjdump -res-usage would
          (zstd-compressed cubins need the zstd program);
  logs    the `ptxas -v` output of `nvcc -arch=sm_90 -cubin` per .cu file
          (the `nvcc` subcommand below runs one compile and keeps its log).

usage:
  ptxas_resources.py nvcc LOG -- NVCC ARG...
      runs nvcc, writes its output to LOG; a failed compile only warns (the
      table then lacks that file's kernels), so the emulator build never
      fails for a resource table.
  ptxas_resources.py table OUT.cpp [--binary FILE]... [--log LOG]... [--note TEXT]
      writes the C++ table (emu/emu_launch.cpp reads it).
  ptxas_resources.py dump [--binary FILE]... [--log LOG]...
      prints the table as text (name, regs, smem, local, spill).
"""
import os
import re
import shutil
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50
SM = 90


def warn(msg):
    print("ptxas_resources.py: warning: %s" % msg, file=sys.stderr)


# ---------------------------------------------------------------- demangling

def demangle_all(names):
    """Itanium demangling (nvcc and g++ share the ABI) through c++filt; nvcc's
    anonymous namespaces (_GLOBAL__N__<hash>_<file>) print as "(anonymous namespace)"."""
    tool = shutil.which("cu++filt") or shutil.which("c++filt")
    if not tool or not names:
        return list(names)
    out = subprocess.run([tool], input="\n".join(names) + "\n", capture_output=True, text=True, check=True).stdout
    lines = out.split("\n")[:len(names)]
    return lines if len(lines) == len(names) else list(names)


def normalize(demangled):
    """Drops the return type and the parameter list, as the emulator does."""
    s = demangled.strip()
    if s.endswith(")"):
        depth = 0
        for i in range(len(s) - 1, -1, -1):
            if s[i] == ")":
                depth += 1
            elif s[i] == "(":
                depth -= 1
                if depth == 0:
                    s = s[:i]
                    break
    if s.startswith("void "):
        s = s[5:]
    return s.strip()


# ---------------------------------------------------------------- ELF

def elf_sections(data):
    """[(name, type, offset, size, info)] of a 64-bit little-endian ELF image."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size, _link, info = struct.unpack_from("<IIQQQQII", data, shoff + i * shentsize)
        raw.append((name, typ, off, size, info))
    stroff = raw[shstrndx][2]

    def cstr(o):
        e = data.index(b"\0", stroff + o)
        return data[stroff + o:e].decode("latin-1")

    return [(cstr(n), t, o, s, inf) for (n, t, o, s, inf) in raw]


# .nv.info attribute records: a format byte, an attribute byte, then a
# payload whose size the format gives (EIFMT_SVAL: a 16-bit length follows).
# The section-wide .nv.info holds the per-function figures, keyed by symbol
# index: EIATTR_REGCOUNT and EIATTR_FRAME_SIZE (symbol, value).
EIFMT_NVAL, EIFMT_BVAL, EIFMT_HVAL, EIFMT_SVAL = 1, 2, 3, 4
EIATTR_FRAME_SIZE = 0x11
EIATTR_REGCOUNT = 0x2F


def nv_info_records(blob):
    """(attribute, payload) of each record."""
    p = 0
    while p + 2 <= len(blob):
        fmt, attr = blob[p], blob[p + 1]
        p += 2
        if fmt == EIFMT_SVAL:
            size, = struct.unpack_from("<H", blob, p)
            yield attr, blob[p + 2:p + 2 + size]
            p += 2 + size
        elif fmt in (EIFMT_HVAL, EIFMT_NVAL):
            yield attr, blob[p:p + 2]
            p += 2
        elif fmt == EIFMT_BVAL:
            yield attr, blob[p:p + 1]
            p += 1
        else:
            return


def elf_symbols(data, secs):
    """Symbol names by index, from the first SYMTAB section and its string table."""
    for idx, (_n, typ, off, size, _i) in enumerate(secs):
        if typ != 2:  # SHT_SYMTAB
            continue
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, = struct.unpack_from("<H", data, 0x3A)
        link, = struct.unpack_from("<I", data, shoff + idx * shentsize + 0x28)
        stroff = secs[link][2]
        names = []
        for p in range(off, off + size, 24):
            st_name, = struct.unpack_from("<I", data, p)
            e = data.index(b"\0", stroff + st_name)
            names.append(data[stroff + st_name:e].decode("latin-1"))
        return names
    return []


def cubin_resources(cubin):
    """{mangled: (regs, static smem, stack frame, spill bytes)} of one cubin.
    Registers and the stack frame (the "bytes stack frame" ptxas prints,
    spills included) come from .nv.info; static shared memory is the size of
    the kernel's .nv.shared section less the 1 KiB that sm_90 reserves per
    block (ptxas leaves it out of its "bytes smem", as does this table).
    Spill counts are not kept in a cubin (-1)."""
    secs = elf_sections(cubin)
    syms = elf_symbols(cubin, secs)
    kernels = {}
    for name, _t, _o, _s, _i in secs:
        if name.startswith(".text."):
            kernels[name[6:]] = [-1, 0, 0, -1]
    for name, _t, off, size, _i in secs:
        if name == ".nv.info":
            for attr, payload in nv_info_records(cubin[off:off + size]):
                if attr not in (EIATTR_REGCOUNT, EIATTR_FRAME_SIZE) or len(payload) < 8:
                    continue
                sym, value = struct.unpack_from("<II", payload)
                k = kernels.get(syms[sym]) if sym < len(syms) else None
                if k is not None:
                    k[0 if attr == EIATTR_REGCOUNT else 2] = value
        elif name.startswith(".nv.shared.") and name[11:] in kernels:
            kernels[name[11:]][1] = max(0, size - 1024)
    return {k: tuple(v) for k, v in kernels.items()}


def fatbin_cubins(data, what):
    """The sm_90 cubins in the .nv_fatbin section of an ELF host binary."""
    secs = [s for s in elf_sections(data) if s[0] == ".nv_fatbin"]
    if not secs:
        warn("%s has no .nv_fatbin section (not built by nvcc?)" % what)
        return []
    _n, _t, off, size, _i = secs[0]
    cubins = []
    p, end = off, off + size
    while p + 16 <= end:
        magic, _ver, hsize, fsize = struct.unpack_from("<IHHQ", data, p)
        if magic != FATBIN_MAGIC:
            p += 8  # fatbins are 8-byte aligned; skip padding between them
            continue
        q, e = p + hsize, p + hsize + fsize
        while q + 64 <= e:
            # fatBinData header: kind, version, header size, padded payload
            # size, ..., payload (compressed) size, ..., sm, ..., flags, ...,
            # uncompressed size.
            kind, _v, hs, padded, _u0, psize, _u1, _u2, sm, _bw, _u3, flags, _u5, _unc = struct.unpack_from(
                "<HHIIIIIIIIIQQQ", data, q)
            if kind == 2 and sm == SM:
                payload = data[q + hs:q + hs + padded]
                if flags & 0x8000:  # zstd (CUDA 12.8+: nvcc's default fatbin compression)
                    payload = zstd_decompress(payload[:psize], what)
                elif flags & 0x2000:  # LZ4 (older toolkits)
                    warn("%s: an LZ4-compressed sm_%d cubin is skipped" % (what, sm))
                    payload = None
                if payload:
                    cubins.append(payload)
            q += hs + padded
        p = e
    return cubins


def zstd_decompress(blob, what):
    tool = shutil.which("zstd")
    if not tool:
        warn("%s: a zstd-compressed cubin is skipped (no zstd program)" % what)
        return None
    r = subprocess.run([tool, "-d", "-c", "-q"], input=blob, capture_output=True)
    if r.returncode != 0:
        warn("%s: zstd failed on a cubin: %s" % (what, r.stderr.decode(errors="replace").strip()))
        return None
    return r.stdout


def from_binary(path):
    with open(path, "rb") as f:
        data = f.read()
    table = {}
    for cubin in fatbin_cubins(data, path):
        for k, v in cubin_resources(cubin).items():
            table[k] = merge(table.get(k), v)
    return table


# ---------------------------------------------------------------- ptxas -v logs

ENTRY = re.compile(r"Compiling entry function '([^']+)' for 'sm_(\d+)'")
PROPS = re.compile(r"Function properties for (\S+)")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers(.*)")
SMEM = re.compile(r"(\d+) bytes smem")


def from_log(path):
    """{mangled: (regs, smem, stack frame, spill stores)} from `ptxas -v` output."""
    table = {}
    cur = None
    frames = {}
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            m = ENTRY.search(line)
            if m:
                cur = m.group(1) if int(m.group(2)) == SM else None
                continue
            m = PROPS.search(line)
            if m:
                pending = m.group(1)
                continue
            m = FRAME.search(line)
            if m and pending:
                frames[pending] = (int(m.group(1)), int(m.group(2)))
                pending = None
                continue
            m = USED.search(line)
            if m and cur:
                s = SMEM.search(m.group(2))
                frame, spill = frames.get(cur, (0, 0))
                table[cur] = merge(table.get(cur), (int(m.group(1)), int(s.group(1)) if s else 0, frame, spill))
                cur = None
    return table


def merge(old, new):
    """The same kernel from two translation units (an inline template in a
    .cuh): keep the larger figures."""
    if old is None:
        return new
    return tuple(max(a, b) for a, b in zip(old, new))


# ---------------------------------------------------------------- output

def collect(binaries, logs):
    table = {}
    for b in binaries:
        if not os.path.exists(b):
            warn("%s does not exist" % b)
            continue
        try:
            for k, v in from_binary(b).items():
                table[k] = merge(table.get(k), v)
        except (ValueError, struct.error, IndexError) as e:
            warn("%s: %s" % (b, e))
    for log in logs:
        for k, v in from_log(log).items():
            table[k] = merge(table.get(k), v)
    mangled = sorted(table)
    names = [normalize(d) for d in demangle_all(mangled)]
    rows = {}
    for m, n in zip(mangled, names):
        rows[n] = merge(rows.get(n), table[m])
    return rows


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_cpp(path, rows, note):
    lines = [
        "// Generated by emu/ptxas_resources.py: sm_90 resource usage of loom's",
        "// CUDA kernels (%s). Do not edit." % note,
        "#include <cstddef>",
        "",
        "namespace emu {",
        "struct KernelResources {",
        "  const char* name;",
        "  int registers, static_smem, local_bytes, spill_bytes;",
        "};",
        "extern const KernelResources kKernelResources[];",
        "extern const size_t kKernelResourcesCount;",
        "extern const char* const kKernelResourcesSource;",
        "const KernelResources kKernelResources[] = {",
    ]
    for n in sorted(rows):
        r = rows[n]
        lines.append("    {%s, %d, %d, %d, %d}," % (c_string(n), r[0], r[1], r[2], r[3]))
    lines.append("    {nullptr, -1, -1, -1, -1},")
    lines.append("};")
    lines.append("const size_t kKernelResourcesCount = %d;" % len(rows))
    lines.append("const char* const kKernelResourcesSource = %s;" % c_string(note))
    lines.append("}  // namespace emu")
    text = "\n".join(lines) + "\n"
    # Rewrite only on change, so an unchanged table does not relink libloom.
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run_nvcc(log, cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    with open(log, "w") as f:
        f.write(r.stdout)
        f.write(r.stderr)
    if r.returncode != 0:
        warn("nvcc failed (exit %d), its kernels will have no resource figures; see %s" % (r.returncode, log))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "nvcc" and argv[2] == "--":
        return run_nvcc(argv[1], argv[3:])
    if argv and argv[0] in ("table", "dump"):
        mode = argv[0]
        rest = argv[1:]
        out = None
        if mode == "table":
            if not rest:
                print(__doc__, file=sys.stderr)
                return 2
            out, rest = rest[0], rest[1:]
        binaries, logs, note = [], [], ""
        i = 0
        while i < len(rest):
            flag = rest[i]
            if i + 1 >= len(rest) or flag not in ("--binary", "--log", "--note"):
                print(__doc__, file=sys.stderr)
                return 2
            {"--binary": binaries, "--log": logs}.get(flag, []).append(rest[i + 1])
            if flag == "--note":
                note = rest[i + 1]
            i += 2
        rows = collect(binaries, logs)
        if mode == "dump":
            for n in sorted(rows):
                print("%s\t%s" % (n, "\t".join(str(x) for x in rows[n])))
        else:
            if not note:
                note = ("ptxas -v of nvcc -arch=sm_90 -cubin" if logs else
                        "sm_90 cubins of " + ", ".join(os.path.basename(b) for b in binaries) if binaries else
                        "no source: every kernel unknown")
            write_cpp(out, rows, note)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
