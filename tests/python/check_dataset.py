"""Checks a Parallax dataset folder with the community's tools, independently of our C++ reader.

usage: check_dataset.py DIR EPISODES|auto [--minari]   (auto: what metadata.json counts)
  h5py: every episode_{i} has the Minari 0.5.3 layout with the right shapes and dtypes (bool flags).
  --minari: minari.MinariDataset(DIR/data) loads it and iterates every episode; if the minari
  package is not importable, prints why and exits 77 (ctest: skipped, never passed).
Exit 0 = all good, 1 = a check failed (the message says which), 3 = a writer was killed inside a
commit: its undo journal is live (docs/store.md, "Crash safety"), the HDF5 file may be torn until
`parallax collect --resume` rolls it back, and only parallax's reader (which overlays the journal)
may read it; nothing is checked.
"""
import json
import sys
from pathlib import Path


def fail(msg):
    print(f"check_dataset: FAIL: {msg}")
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    use_minari = "--minari" in sys.argv
    root = Path(args[0])
    data = root / "data"
    meta = json.loads((data / "metadata.json").read_text())
    want_episodes = meta["total_episodes"] if args[1] == "auto" else int(args[1])
    # The journal's header: magic, then the commit count it protects (int64 LE). A count below
    # metadata.json's is stale (that commit landed).
    journal = data / "main_data.hdf5.undo"
    if journal.exists():
        head = journal.read_bytes()[:16]
        if len(head) < 16 or head[:8] != b"PXUNDO01" or \
                int.from_bytes(head[8:], "little") >= meta["total_episodes"]:
            print(f"check_dataset: {journal}: live undo journal (a writer was killed inside a "
                  "commit): resume the collection before reading it with h5py")
            sys.exit(3)

    import numpy as np
    import h5py

    # metadata.json: Minari's required fields, spaces as JSON-encoded Boxes.
    for key in ("data_format", "dataset_id", "minari_version", "total_episodes", "total_steps",
                "observation_space", "action_space", "scene_name", "scene_json"):
        expect(key in meta, f"metadata.json lacks {key}")
    expect(meta["data_format"] == "hdf5", "data_format")
    expect(meta["minari_version"] == "0.5.3", "minari_version")
    expect(meta["total_episodes"] == want_episodes,
           f"total_episodes {meta['total_episodes']} != {want_episodes}")
    obs_space = json.loads(meta["observation_space"])
    act_space = json.loads(meta["action_space"])
    expect(obs_space["type"] == "Box" and obs_space["dtype"] == "uint8", "observation_space")
    _, H, W = obs_space["shape"]
    expect(obs_space["shape"][0] == 3, "observation_space is not channel-first")
    (A,) = act_space["shape"]
    expect(act_space["dtype"] == "float32", "action_space dtype")
    scene = json.loads(meta["scene_json"])  # the full scene file, valid JSON
    expect(scene.get("name") == meta["scene_name"], "scene_json name != scene_name")

    total = 0
    nonblank = 0
    seeds = set()
    with h5py.File(data / "main_data.hdf5", "r") as f:
        for i in range(want_episodes):
            g = f[f"episode_{i}"]
            T = int(g.attrs["total_steps"])
            expect(int(g.attrs["id"]) == i, f"episode_{i} id attribute")
            expect("seed" in g.attrs, f"episode_{i} has no seed attribute")
            seed = int(g.attrs["seed"])
            expect(seed not in seeds, f"episode_{i}: seed {seed} was already collected")
            seeds.add(seed)
            total += T
            o, a, r = g["observations"], g["actions"], g["rewards"]
            te, tr = g["terminations"], g["truncations"]
            po, ids = g["infos"]["poses"], g["infos"]["ids"]
            expect(o.shape == (T + 1, 3, H, W) and o.dtype == np.uint8,
                   f"episode_{i}/observations {o.shape} {o.dtype}")
            expect(a.shape == (T, A) and a.dtype == np.float32, f"episode_{i}/actions {a.shape}")
            expect(r.shape == (T,) and r.dtype == np.float32, f"episode_{i}/rewards {r.dtype}")
            expect(te.dtype == np.bool_ and te.shape == (T,),
                   f"episode_{i}/terminations dtype {te.dtype} (h5py must read bool)")
            expect(tr.dtype == np.bool_ and tr.shape == (T,), f"episode_{i}/truncations {tr.dtype}")
            expect(po.shape[0] == T + 1 and po.shape[2] == 7 and po.dtype == np.float32,
                   f"episode_{i}/infos/poses {po.shape}")
            expect(ids.shape == (T + 1, H, W) and ids.dtype == np.uint8, f"episode_{i}/infos/ids")
            aa = a[()]
            expect(np.all(aa >= -1) and np.all(aa <= 1), f"episode_{i}: actions outside [-1, 1]")
            # An episode ends exactly once: at its last step, by termination or truncation.
            flags = te[()] | tr[()]
            expect(flags[-1] and not flags[:-1].any(),
                   f"episode_{i}: ends {np.nonzero(flags)[0].tolist()}, expected only at {T-1}")
            frames = o[()]
            nonblank += int(frames.std() > 0)
            # Object ids mark something other than the background in some pixel.
            expect(ids[()].max() > 0, f"episode_{i}: object-id frames are all background")
    expect(total == meta["total_steps"], f"total_steps {meta['total_steps']} != sum {total}")
    expect(nonblank == want_episodes, "some episodes have blank (constant) frames")
    print(f"check_dataset: h5py OK: {want_episodes} episodes, {total} steps, frames 3x{H}x{W}, A={A}")

    if not use_minari:
        return
    try:
        import minari
    except Exception as e:  # noqa: BLE001 - any import failure means "not available here"
        print(f"check_dataset: SKIP minari: cannot import minari ({e}); "
              "bootstrap installs it where PyPI is reachable")
        sys.exit(77)
    ds = minari.MinariDataset(str(data))
    expect(ds.total_episodes == want_episodes, f"minari total_episodes {ds.total_episodes}")
    expect(ds.total_steps == total, f"minari total_steps {ds.total_steps}")
    expect(ds.observation_space.shape == (3, H, W), f"minari obs space {ds.observation_space}")
    seen = 0
    for ep in ds.iterate_episodes():
        T = len(ep)
        expect(ep.observations.shape == (T + 1, 3, H, W), f"minari episode {ep.id} observations")
        expect(ep.observations.dtype == np.uint8, "minari observations dtype (JPEG-decoded?)")
        expect(ep.actions.shape == (T, A), f"minari episode {ep.id} actions")
        expect(ep.terminations.dtype == np.bool_, "minari terminations dtype")
        expect("poses" in ep.infos and "ids" in ep.infos, "minari infos lacks poses/ids")
        seen += 1
    expect(seen == want_episodes, f"minari iterated {seen} episodes")
    sample = ds.sample_episodes(2)
    expect(len(sample) == 2, "minari sample_episodes")
    print(f"check_dataset: minari {minari.__version__} OK: iterated {seen} episodes")


if __name__ == "__main__":
    main()
