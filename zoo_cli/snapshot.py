"""`zoo snapshot save RUN DEST` and `zoo snapshot restore SNAPSHOT RUN`."""

from training.snapshot import restore_snapshot, save_snapshot


def cmd_snapshot(args):
    if args.action == "save":
        curve = save_snapshot(args.source, args.dest)
        last = curve["rows"][-1] if curve["rows"] else {}
        print(f"snapshot {args.dest}: epoch {last.get('epoch')}, step {last.get('step')}, "
              f"val_psnr {last.get('val_psnr', '-')}, hours {last.get('hours')}")
    else:
        restore_snapshot(args.source, args.dest)
        print(f"restored into {args.dest}; continue with `zoo train RECIPE -o {args.dest} "
              "--resume`")
    return 0
