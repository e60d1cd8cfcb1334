#!/usr/bin/env python3
"""Consistency check of the face-api.js golden files (tests/golden/faceapi/*.json).

    tools/golden/check_golden.py [--no-djpeg] [GOLDEN.json ...]   (default: every golden file)

For every file: the fields and types of the golden format (see tests/golden/faceapi/README.md),
68 landmarks of 2 numbers and 128-float descriptors per face, faces in face-api's order (score
descending, all > minConfidence 0.5), and the recognition rectangle re-derived from the
landmarks with face-api's dlib alignment (PIPELINE.md section 1). Unless --no-djpeg: the source
JPEG is decoded again with `djpeg -pnm` and the SHA-256 of the raw RGB payload, width and height
are compared with the file, and the djpeg version with the recorded decoder.
Python 3 standard library only. Exit status 0 when everything passes.
"""
import glob
import hashlib
import json
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.environ.get("FACETRAIL_DATA", "/work/shared/data")
FACEAPI_DIR = os.environ.get("FACEAPI_DIR", "/work/shared/peers/faceapi")
GOLDEN_DIR = os.path.join(REPO, "tests", "golden", "faceapi")

TOP_FIELDS = {"source": str, "decoder": str, "pixels_sha256": str, "width": int, "height": int,
              "generator": str, "faceapi_version": str, "backend": str, "faces": list}
RECT_KEYS = ("x", "y", "width", "height")


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def resolve_source(source):
    if source.startswith("models/demo/"):
        p = os.path.join(REPO, source)
        if os.path.isfile(p):
            return p
        return os.path.join(FACEAPI_DIR, "node_modules", "@vladmandic", "face-api", "demo",
                            source[len("models/demo/"):])
    return os.path.join(DATA, source)


def parse_ppm(buf):
    """binary PPM P6 maxval 255 -> (width, height, payload); header as djpeg writes it (comments allowed)"""
    m = re.match(rb"P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s", buf)
    if not m or int(m.group(3)) != 255:
        raise ValueError("not a binary PPM with maxval 255")
    w, h = int(m.group(1)), int(m.group(2))
    payload = buf[m.end():m.end() + w * h * 3]
    if len(payload) != w * h * 3:
        raise ValueError("truncated PPM payload")
    return w, h, payload


def djpeg_version():
    out = subprocess.run(["djpeg", "-version"], capture_output=True, text=True)
    m = re.search(r"libjpeg-turbo version (\S+)", out.stdout + out.stderr)
    return m.group(1) if m else None


def center(pts):
    # face-api getCenterPoint: running sum from (0, 0), then divide by the count
    sx, sy = 0.0, 0.0
    for x, y in pts:
        sx, sy = sx + x, sy + y
    return sx / len(pts), sy / len(pts)


def aligned_rect(lm, crop_w, crop_h):
    """FaceLandmarks.alignDlib (PIPELINE.md section 1), same operation order as face-api"""
    le, re_, mo = center(lm[36:42]), center(lm[42:48]), center(lm[48:68])
    dist = lambda p: math.sqrt((mo[0] - p[0]) ** 2 + (mo[1] - p[1]) ** 2)
    size = math.floor((dist(le) + dist(re_)) / 2 / 0.45)
    c = center([le, re_, mo])
    x = math.floor(max(0, c[0] - 0.5 * size))
    y = math.floor(max(0, c[1] - 0.43 * size))
    return {"x": x, "y": y, "width": min(size, crop_w + x), "height": min(size, crop_h + y)}


def clip_floor(r, w, h):
    """Box.clipAtImageBorders(w, h) (which floors every field)"""
    x0, y0 = max(r["x"], 0), max(r["y"], 0)
    cw = min(r["x"] + r["width"] - x0, w - x0)
    ch = min(r["y"] + r["height"] - y0, h - y0)
    return {"x": math.floor(x0), "y": math.floor(y0), "width": math.floor(cw), "height": math.floor(ch)}


def check_rect(errs, where, r, integer=False):
    if not isinstance(r, dict) or set(r) != set(RECT_KEYS) or not all(is_num(r[k]) for k in RECT_KEYS):
        errs.append(f"{where}: not a rect {{x, y, width, height}} of numbers")
        return False
    if integer and not all(float(r[k]).is_integer() for k in RECT_KEYS):
        errs.append(f"{where}: crop rect not integral: {r}")
    return True


def check_file(path, use_djpeg, jt_version):
    errs = []
    try:
        with open(path) as f:
            g = json.load(f)
    except (OSError, ValueError) as e:
        return [f"unreadable JSON: {e}"], None
    for k, t in TOP_FIELDS.items():
        if k not in g:
            errs.append(f"missing field {k}")
        elif not isinstance(g[k], t) or isinstance(g[k], bool):
            errs.append(f"field {k} is not {t.__name__}")
    if errs:
        return errs, None
    extra = set(g) - set(TOP_FIELDS)
    if extra:
        errs.append(f"unexpected top-level fields {sorted(extra)}")
    if not re.fullmatch(r"[0-9a-f]{64}", g["pixels_sha256"]):
        errs.append("pixels_sha256 is not 64 lowercase hex digits")
    m = re.fullmatch(r"djpeg -pnm \(libjpeg-turbo (\S+)\)", g["decoder"])
    if not m:
        errs.append(f"decoder not of the form 'djpeg -pnm (libjpeg-turbo V)': {g['decoder']!r}")
    elif use_djpeg and jt_version and m.group(1) != jt_version:
        errs.append(f"decoder version {m.group(1)} but installed djpeg is libjpeg-turbo {jt_version}")
    if g["faceapi_version"] != "1.7.15":
        errs.append(f"faceapi_version {g['faceapi_version']}")
    if g["backend"] != "wasm":
        errs.append(f"backend {g['backend']}")
    if not g["generator"].startswith("tools/golden/make_golden.sh"):
        errs.append(f"generator {g['generator']!r}")
    W, H = g["width"], g["height"]
    if W <= 0 or H <= 0:
        errs.append("width/height not positive")

    prev = math.inf
    for i, f in enumerate(g["faces"]):
        w = f"faces[{i}]"
        if not isinstance(f, dict):
            errs.append(f"{w}: not an object")
            continue
        for k in ("score", "box", "landmarks", "descriptor"):
            if k not in f:
                errs.append(f"{w}: missing {k}")
        if any(k not in f for k in ("score", "box", "landmarks", "descriptor")):
            continue
        if not is_num(f["score"]) or not 0.5 < f["score"] <= 1:
            errs.append(f"{w}: score {f['score']} not in (0.5, 1]")
        elif f["score"] > prev:
            errs.append(f"{w}: faces not sorted by descending score")
        else:
            prev = f["score"]
        check_rect(errs, f"{w}.box", f["box"])
        lm = f["landmarks"]
        if not (isinstance(lm, list) and len(lm) == 68
                and all(isinstance(p, list) and len(p) == 2 and all(is_num(v) for v in p) for p in lm)):
            errs.append(f"{w}: landmarks are not 68 [x, y] number pairs")
            lm = None
        d = f["descriptor"]
        if not (isinstance(d, list) and len(d) == 128 and all(is_num(v) for v in d)):
            errs.append(f"{w}: descriptor is not 128 numbers")
        else:
            norm = math.sqrt(sum(v * v for v in d))
            if not 0.5 < norm < 3:
                errs.append(f"{w}: descriptor norm {norm:.3f} implausible")
        for k in ("landmark_crop", "recognition_rect", "recognition_crop"):
            if k in f:
                check_rect(errs, f"{w}.{k}", f[k], integer=True)
        # re-derive the recognition rect and crop from the landmarks (PIPELINE.md sections 1-2)
        if lm is not None and "landmark_crop" in f and "recognition_rect" in f and "recognition_crop" in f:
            lc = f["landmark_crop"]
            if lc != clip_floor(f["box"], W, H):
                errs.append(f"{w}: landmark_crop {lc} != clipped, floored box")
            rr = aligned_rect(lm, lc["width"], lc["height"])
            if rr != f["recognition_rect"]:
                errs.append(f"{w}: recognition_rect {f['recognition_rect']} != re-derived {rr}")
            if clip_floor(f["recognition_rect"], W, H) != f["recognition_crop"]:
                errs.append(f"{w}: recognition_crop is not recognition_rect clipped to the image")

    if use_djpeg:
        src = resolve_source(g["source"])
        if not os.path.isfile(src):
            errs.append(f"source image missing: {src}")
        else:
            out = subprocess.run(["djpeg", "-pnm", src], capture_output=True)
            if out.returncode != 0:
                errs.append(f"djpeg failed on {src}: {out.stderr.decode(errors='replace').strip()}")
            else:
                try:
                    w, h, payload = parse_ppm(out.stdout)
                    if (w, h) != (W, H):
                        errs.append(f"djpeg gives {w}x{h}, file says {W}x{H}")
                    if hashlib.sha256(payload).hexdigest() != g["pixels_sha256"]:
                        errs.append("pixels_sha256 differs from the SHA-256 of djpeg's RGB payload")
                except ValueError as e:
                    errs.append(f"djpeg output: {e}")
    return errs, g


def main(argv):
    use_djpeg = "--no-djpeg" not in argv
    files = [a for a in argv if a != "--no-djpeg"] or sorted(glob.glob(os.path.join(GOLDEN_DIR, "*.json")))
    if not files:
        print("check_golden: no golden files found", file=sys.stderr)
        return 1
    jt_version = djpeg_version() if use_djpeg else None
    if use_djpeg and not jt_version:
        print("check_golden: djpeg (libjpeg-turbo) not found; install libjpeg-turbo-progs or pass --no-djpeg",
              file=sys.stderr)
        return 1
    bad = 0
    total_faces = 0
    for path in files:
        errs, g = check_file(path, use_djpeg, jt_version)
        name = os.path.basename(path)
        if errs:
            bad += 1
            for e in errs:
                print(f"FAIL {name}: {e}")
        else:
            total_faces += len(g["faces"])
            print(f"ok   {name}: {g['source']} {g['width']}x{g['height']} faces={len(g['faces'])}")
    print(f"check_golden: {len(files) - bad}/{len(files)} files ok, {total_faces} faces"
          f"{'' if use_djpeg else ' (pixels not re-hashed: --no-djpeg)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
