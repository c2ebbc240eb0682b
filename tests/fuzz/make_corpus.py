"""Writes the seed corpora of fuzz_tokenizer and fuzz_idx (tests/fuzz/corpus/<target>/).

    python3 tests/fuzz/make_corpus.py

fuzz_idx's input is a flags byte (bit 0: images gzip'd, bit 1: labels gzip'd),
the images file's length (2 bytes, little-endian), the images file and the
labels file (tests/fuzz/fuzz_entry.h). The seeds cover plain files and gzip
members with stored, fixed and dynamic blocks, header fields and two members.
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, 31, 9, strategy)  # wbits 31: a gzip member
    return c.compress(data) + c.flush()


def gz_with_header_fields(data):
    """A member with FEXTRA, FNAME, FCOMMENT and FHCRC set (the header's CRC is not checked by loom)."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = raw.compress(data) + raw.flush()
    header = bytes([0x1F, 0x8B, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3])
    header += struct.pack("<H", 3) + b"xyz" + b"name\0" + b"comment\0" + b"\0\0"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)


def idx_input(flags, images, labels):
    return bytes([flags]) + struct.pack("<H", len(images)) + images + labels


def main():
    write("fuzz_tokenizer", "vocab.txt", b"<pad>\n<unk>\n<bos>\n<eos>\na\nphoto\nof\n.\nsneaker\n")
    write("fuzz_tokenizer", "vocab_crlf.txt", b"<pad>\r\n<unk>\r\n<bos>\r\n<eos>\r\ncaf\xc3\xa9\r\n-\r\n")
    write("fuzz_tokenizer", "captions.txt",
          b"A photo of a sneaker.\na black-and-white picture of a pullover\n"
          b"A photo of a bag, seen from above!\nCaf\xc3\xa9 \xc3\x89T\xc3\x89 2x\n")

    # Two 3x2 images and their labels.
    images = idx([2, 3, 2], range(0, 240, 20))
    labels = idx([2], [7, 3])
    write("fuzz_idx", "plain.bin", idx_input(0, images, labels))
    write("fuzz_idx", "gzip_fixed.bin", idx_input(3, gz(images, strategy=zlib.Z_FIXED), gz(labels)))
    write("fuzz_idx", "gzip_stored.bin", idx_input(1, gz(images, level=0), labels))
    write("fuzz_idx", "gzip_header_fields.bin", idx_input(2, images, gz_with_header_fields(labels)))
    write("fuzz_idx", "gzip_two_members.bin", idx_input(3, gz(images[:7]) + gz(images[7:]), gz(labels)))
    # Enough irregular, skewed pixels for zlib to choose a dynamic Huffman block.
    n, h, w = 4, 5, 5
    pix, x = [], 1
    for _ in range(n * h * w):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        pix.append([0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 128, 64, 32, 16, 8, 4][(x >> 16) % 16])
    big = idx([n, h, w], pix)
    write("fuzz_idx", "gzip_dynamic.bin", idx_input(3, gz(big), gz(idx([n], [0, 9, 4, 4]))))


if __name__ == "__main__":
    main()
