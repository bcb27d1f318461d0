#!/usr/bin/env python3
"""PyBullet TinyRenderer reference for bench_render: renders the same primitives, camera, light and
size with getCameraImage(renderer=ER_TINY_RENDERER, shadow=1) and prints one JSON line with its
frames per second.

Input: a JSON file written by bench_render (the scene resolved to primitives and poses):
  {"scene": str, "width": int, "height": int, "frames": int,
   "camera": {"eye": [3], "target": [3], "up": [3], "fov_deg": float},
   "light": {"direction": [3], "ambient": float},
   "prims": [{"shape": "plane|box|sphere|cylinder|capsule|disc", "half_extents": [3],
              "radius": float, "half_height": float, "normal": [3], "color": [3],
              "position": [3], "orientation": [x, y, z, w]}]}
Output: {"renderer": "pybullet_tiny", ...} or {"renderer": "pybullet_tiny", "error": "..."}.
Usage: render_pybullet.py SPEC.json [--png OUT.png]
"""
import json
import math
import struct
import sys
import time
import zlib


def write_png(path, width, height, rgb_rows):
    """Minimal RGB PNG writer (no PIL needed): rgb_rows is bytes of [H, W, 3] u8."""
    raw = b"".join(b"\x00" + rgb_rows[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def pybullet_version():
    try:
        from importlib.metadata import version
        return version("pybullet")
    except Exception:  # not installed as a distribution: no version to report
        return "unknown"


def main():
    spec_path = sys.argv[1]
    png = sys.argv[sys.argv.index("--png") + 1] if "--png" in sys.argv else None
    with open(spec_path) as f:
        spec = json.load(f)
    out = {"renderer": "pybullet_tiny", "scene": spec["scene"], "width": spec["width"],
           "height": spec["height"]}
    try:
        import pybullet as p
    except ImportError as e:
        out["error"] = "pybullet is not installed (%s); try: pip install pybullet" % e
        print(json.dumps(out))
        return 0

    client = p.connect(p.DIRECT)
    for prim in spec["prims"]:
        rgba = list(prim["color"]) + [1.0]
        shape = prim["shape"]
        pos, orn = prim["position"], prim["orientation"]
        if shape == "plane":
            # TinyRenderer draws no GEOM_PLANE: a 20 m x 20 m slab 2 mm thick stands in for it,
            # its top face on the plane (body z turned onto the plane's normal).
            n = prim["normal"]
            axis = [-n[1], n[0], 0.0]  # z x n
            s = math.sqrt(axis[0] ** 2 + axis[1] ** 2)
            turn = [0, 0, 0, 1] if s < 1e-9 else p.getQuaternionFromAxisAngle(
                [axis[0] / s, axis[1] / s, 0.0], math.acos(max(-1.0, min(1.0, n[2]))))
            _, orn = p.multiplyTransforms([0, 0, 0], orn, [0, 0, 0], turn)
            m = p.getMatrixFromQuaternion(orn)  # row-major 3x3; column 2 is the slab's z
            down = [-0.001 * m[2], -0.001 * m[5], -0.001 * m[8]]
            pos = [pos[0] + down[0], pos[1] + down[1], pos[2] + down[2]]
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[10, 10, 0.001], rgbaColor=rgba,
                                      physicsClientId=client)
        elif shape == "box":
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=prim["half_extents"], rgbaColor=rgba,
                                      physicsClientId=client)
        elif shape == "sphere":
            vis = p.createVisualShape(p.GEOM_SPHERE, radius=prim["radius"], rgbaColor=rgba,
                                      physicsClientId=client)
        elif shape in ("cylinder", "disc"):
            hh = prim["half_height"] if shape == "cylinder" else 0.0005
            vis = p.createVisualShape(p.GEOM_CYLINDER, radius=prim["radius"], length=2 * hh,
                                      rgbaColor=rgba, physicsClientId=client)
        elif shape == "capsule":
            vis = p.createVisualShape(p.GEOM_CAPSULE, radius=prim["radius"],
                                      length=2 * prim["half_height"], rgbaColor=rgba,
                                      physicsClientId=client)
        else:
            continue
        p.createMultiBody(baseMass=0, baseVisualShapeIndex=vis, basePosition=pos,
                          baseOrientation=orn, physicsClientId=client)

    w, h = spec["width"], spec["height"]
    cam = spec["camera"]
    view = p.computeViewMatrix(cam["eye"], cam["target"], cam["up"])
    proj = p.computeProjectionMatrixFOV(cam["fov_deg"], w / h, 0.01, 20.0)
    d = spec["light"]["direction"]
    to_light = [-d[0], -d[1], -d[2]]  # pybullet wants the direction toward the light
    kwargs = dict(width=w, height=h, viewMatrix=view, projectionMatrix=proj, shadow=1,
                  lightDirection=to_light, lightAmbientCoeff=spec["light"]["ambient"],
                  renderer=p.ER_TINY_RENDERER, physicsClientId=client)
    img = p.getCameraImage(**kwargs)  # warm-up
    frames = int(spec["frames"])
    t0 = time.perf_counter()
    for _ in range(frames):
        img = p.getCameraImage(**kwargs)
    elapsed = time.perf_counter() - t0
    if png:
        import numpy as np
        rgba = np.asarray(img[2], dtype=np.uint8).reshape(h, w, 4)
        write_png(png, w, h, rgba[:, :, :3].tobytes())
    out.update({"frames": frames, "seconds": elapsed, "fps": frames / elapsed,
                "pybullet": pybullet_version()})
    print("\n" + json.dumps(out))  # own line: pybullet prints warnings without a newline
    p.disconnect(client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
