"""loom.io and loom.multimodal.ImageCaptionFolder against Pillow: PNGs are
decoded exactly as Pillow decodes them, JPEGs within 2 levels (usually
exactly: both use libjpeg-turbo), what loom writes Pillow reads back, and the
dataset resizes as Pillow's BILINEAR does."""
import io as pyio
import json
import os
import pathlib

import numpy as np
import pytest

import loom
from loom.io import ImageReadMode

Image = pytest.importorskip("PIL.Image")


def chw(img):
    """A Pillow image as int [C, H, W]."""
    a = np.asarray(img).astype(np.int64)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def random_image(rng, mode, size=(13, 9)):
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    a = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(a[..., 0] if channels == 1 else a, mode)


def save(img, path, **kw):
    img.save(path, **kw)
    return str(path)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_read_png_matches_pillow_exactly(tmp_path, rng, mode):
    img = random_image(rng, mode)
    path = save(img, tmp_path / "a.png")
    t = loom.io.read_image(path)
    assert t.dtype == loom.int32
    assert tuple(t.shape) == chw(img).shape
    np.testing.assert_array_equal(t.numpy(), chw(img))
    # Every mode conversion equals Pillow's convert (luma as its "L").
    for m, pil in [(ImageReadMode.GRAY, "L"), (ImageReadMode.RGB, "RGB"), (ImageReadMode.RGB_ALPHA, "RGBA"),
                   (ImageReadMode.GRAY_ALPHA, "LA")]:
        np.testing.assert_array_equal(loom.io.read_image(path, m).numpy(), chw(img.convert(pil)), err_msg=str(m))


def test_read_palette_and_16_bit_pngs(tmp_path, rng):
    pal = Image.new("P", (11, 6))
    pal.putdata([int(i) for i in rng.integers(0, 7, size=66)])
    pal.putpalette(list(rng.integers(0, 256, size=3 * 7)))
    path = save(pal, tmp_path / "p.png")
    np.testing.assert_array_equal(loom.io.read_image(path).numpy(), chw(pal.convert("RGB")))
    path = save(pal, tmp_path / "pt.png", transparency=bytes([0, 50, 255, 255, 10, 255, 255]))
    np.testing.assert_array_equal(loom.io.read_image(path).numpy(), chw(Image.open(path).convert("RGBA")))

    v = rng.integers(0, 65536, size=(5, 8)).astype(np.uint16)
    img16 = Image.fromarray(v)
    assert img16.mode == "I;16"
    path = save(img16, tmp_path / "g16.png")
    np.testing.assert_array_equal(loom.io.read_image(path).numpy()[0], np.floor(v / 257 + 0.5))


@pytest.mark.parametrize("opts", [dict(quality=90), dict(quality=75, progressive=True), dict(quality=95, subsampling=0),
                                  dict(quality=60, subsampling=1, optimize=True)])
def test_read_jpeg_matches_pillow(tmp_path, rng, opts):
    # A smooth image with noise, so that the colour conversion and upsampling matter.
    y, x = np.mgrid[0:37, 0:29]
    a = np.stack([x * 8, y * 6, 255 - x * 4 - y * 3], -1) + rng.integers(-20, 20, size=(37, 29, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    path = save(img, tmp_path / "a.jpg", **opts)
    ours = loom.io.read_image(path).numpy()
    assert ours.shape == (3, 37, 29)
    assert np.abs(ours - chw(Image.open(path))).max() <= 2
    gray = save(img.convert("L"), tmp_path / "g.jpg", **opts)
    assert np.abs(loom.io.read_image(gray).numpy() - chw(Image.open(gray))).max() <= 2
    assert loom.io.read_image(gray, "rgb").shape == (3, 37, 29)


def test_cmyk_jpeg_is_not_implemented(tmp_path):
    path = save(Image.new("CMYK", (4, 4), (1, 2, 3, 4)), tmp_path / "c.jpg")
    with pytest.raises(NotImplementedError, match="CMYK"):
        loom.io.read_image(path)


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_write_png_is_read_back_by_pillow(tmp_path, rng, channels, mode):
    a = rng.integers(0, 256, size=(channels, 7, 10))
    t = loom.tensor(a, dtype=loom.int32)
    path = tmp_path / "w.png"
    loom.io.write_png(t, path)  # an os.PathLike
    img = Image.open(path)
    assert img.mode == mode
    np.testing.assert_array_equal(chw(img), a)
    np.testing.assert_array_equal(chw(Image.open(pyio.BytesIO(loom.io.encode_png(t, 9)))), a)

    f = rng.random(size=(channels, 7, 10)) * 1.2 - 0.1
    loom.io.write_png(loom.tensor(f, dtype=loom.float32), str(path), compression_level=0)
    expect = np.floor(np.clip(f.astype(np.float32).astype(np.float64), 0, 1) * 255 + 0.5)
    np.testing.assert_array_equal(chw(Image.open(path)), expect)
    assert os.listdir(tmp_path) == ["w.png"]


def test_jpeg_written_by_loom_is_read_by_pillow(tmp_path):
    y, x = np.mgrid[0:16, 0:24]
    a = np.stack([x * 10, y * 15, np.full_like(x, 90)])
    path = tmp_path / "w.jpg"
    loom.io.write_jpeg(loom.tensor(a, dtype=loom.int32), path, quality=95)
    assert np.abs(chw(Image.open(path)) - a).max() <= 8
    data = loom.io.encode_jpeg(loom.tensor(a[:1], dtype=loom.int32))
    assert Image.open(pyio.BytesIO(data)).mode == "L"


def test_decode_image_takes_bytes_like_objects(rng):
    img = random_image(rng, "RGB")
    buf = pyio.BytesIO()
    img.save(buf, format="PNG")
    data = buf.getvalue()
    for d in (data, bytearray(data), memoryview(data)):
        np.testing.assert_array_equal(loom.io.decode_image(d).numpy(), chw(img))
    assert loom.io.decode_image(data, "gray").shape == (1, 9, 13)
    with pytest.raises(TypeError, match="decode_image"):
        loom.io.decode_image("not bytes")
    with pytest.raises(ValueError, match="unknown mode"):
        loom.io.decode_image(data, "cmyk")
    with pytest.raises(TypeError, match="mode"):
        loom.io.decode_image(data, 3)


def test_errors_name_the_function_and_path(tmp_path):
    with pytest.raises(RuntimeError, match=r"read_image: cannot open .*missing\.png"):
        loom.io.read_image(tmp_path / "missing.png")
    (tmp_path / "t.png").write_bytes(b"plain text")
    with pytest.raises(RuntimeError, match=r"t\.png.*not a PNG or JPEG"):
        loom.io.read_image(tmp_path / "t.png")
    good = loom.io.encode_png(loom.zeros(3, 8, 8))
    (tmp_path / "cut.png").write_bytes(good[: len(good) - 20])
    with pytest.raises(RuntimeError, match=r"cut\.png.*truncated"):
        loom.io.read_image(tmp_path / "cut.png")
    with pytest.raises(RuntimeError, match=r"write_png.*\[C, H, W\]"):
        loom.io.write_png(loom.zeros(8, 8), tmp_path / "x.png")
    with pytest.raises(RuntimeError, match="channels"):
        loom.io.encode_png(loom.zeros(5, 8, 8))
    with pytest.raises(ValueError, match="0..255"):
        loom.io.encode_png(loom.full((1, 2, 2), 256, dtype=loom.int32))
    with pytest.raises(ValueError, match="compression_level"):
        loom.io.encode_png(loom.zeros(1, 2, 2), 10)
    with pytest.raises(TypeError, match="dtype"):
        loom.io.encode_png(loom.zeros(1, 2, 2, dtype=loom.bool))
    assert not (tmp_path / "x.png").exists()


def write_folder(tmp_path, rng):
    sizes = {"a.png": (20, 12), "b.jpg": (16, 16), "sub/c.png": (9, 30)}
    pixels = {}
    (tmp_path / "sub").mkdir()
    for name, (w, h) in sizes.items():
        img = random_image(rng, "RGB", (w, h))
        img.save(tmp_path / name, quality=95)
        pixels[name] = Image.open(tmp_path / name).convert("RGB")
    return pixels


def test_image_caption_folder_csv(tmp_path, rng):
    pixels = write_folder(tmp_path, rng)
    (tmp_path / "captions.csv").write_text(
        'image,caption,label\na.png,"a cat, sleeping",1\nb.jpg,"a ""quoted"" dog",\nsub/c.png,tall,2\na.png,again,1\n')
    ds = loom.multimodal.ImageCaptionFolder(tmp_path / "captions.csv")
    assert "ImageCaptionFolder" in loom.multimodal.__all__
    assert len(ds) == 4 and ds.num_images == 3
    assert [ds.image_id(i) for i in range(4)] == [0, 1, 2, 0]
    assert ds.captions == ["a cat, sleeping", 'a "quoted" dog', "tall", "again"]
    assert ds.labels == [1, -1, 2, 1]
    image, caption, label = ds[0]
    assert image.dtype == loom.float32 and tuple(image.shape) == (3, 12, 20)
    np.testing.assert_allclose(image.numpy() * 255, chw(pixels["a.png"]), atol=1e-3)
    assert (caption, label) == ("a cat, sleeping", 1)
    assert ds[-1][1] == "again"
    with pytest.raises(IndexError):
        ds[4]
    assert ds.image_path(2).endswith(os.path.join("sub", "c.png"))
    np.testing.assert_array_equal(ds.image_ids().numpy(), [0, 1, 2, 0])


@pytest.mark.parametrize("size", [8, (10, 6), (40, 33)])
def test_image_caption_folder_jsonl_resizes_as_pillow(tmp_path, rng, size):
    pixels = write_folder(tmp_path, rng)
    meta = tmp_path / "meta"
    meta.mkdir()
    lines = [{"image": "a.png", "caption": ["one", "two", "three"], "label": 5},
             {"image": "sub/c.png", "caption": "tall", "label": None, "extra": {"k": [1, 2]}},
             {"image": str(tmp_path / "b.jpg"), "caption": "abs path"}]
    (meta / "c.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    tok = loom.multimodal.WordTokenizer()
    tok.build(["one two three tall"])
    ds = loom.multimodal.ImageCaptionFolder(str(meta / "c.jsonl"), root=tmp_path, size=size, tokenizer=tok,
                                            max_len=5, cache=True)
    assert len(ds) == 5 and ds.num_images == 3
    assert [ds.image_id(i) for i in range(5)] == [0, 0, 0, 1, 2]
    assert ds.labels == [5, 5, 5, -1, -1]
    h, w = (size, size) if isinstance(size, int) else size
    for i, name in [(0, "a.png"), (3, "sub/c.png"), (4, "b.jpg")]:
        image, caption, label = ds[i]
        assert tuple(image.shape) == (3, h, w)
        ref = chw(pixels[name].resize((w, h), Image.BILINEAR))
        assert np.abs(image.numpy() * 255 - ref).max() <= 1.01, name
    ex = ds.example(1)
    assert ex["caption"] == "two" and ex["image_id"] == 0
    assert tok.decode_tensor(ex["tokens"]) == "two"


def test_image_caption_folder_errors(tmp_path, rng):
    write_folder(tmp_path, rng)
    (tmp_path / "m.csv").write_text("image,caption\na.png,x\nnope.png,y\n")
    with pytest.raises(RuntimeError, match=r"nope\.png.*line 3"):
        loom.multimodal.ImageCaptionFolder(tmp_path / "m.csv")
    (tmp_path / "j.jsonl").write_text('{"image": "a.png", "caption": 3}\n')
    with pytest.raises(ValueError, match=r"line 1.*caption"):
        loom.multimodal.ImageCaptionFolder(tmp_path / "j.jsonl")
    (tmp_path / "ok.csv").write_text("image,caption\na.png,x\n")
    with pytest.raises(TypeError, match="size"):
        loom.multimodal.ImageCaptionFolder(tmp_path / "ok.csv", size="big")
    with pytest.raises(ValueError, match="size"):
        loom.multimodal.ImageCaptionFolder(tmp_path / "ok.csv", size=(0, 4))
    gray = loom.multimodal.ImageCaptionFolder(pathlib.Path(tmp_path / "ok.csv"), mode=ImageReadMode.GRAY)
    assert tuple(gray[0][0].shape) == (1, 12, 20)
