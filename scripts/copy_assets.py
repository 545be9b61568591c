"""Put the assets of project.yml in place from a local copy of the data, checking their md5.

    python scripts/copy_assets.py --local-data ../shared/data [--project-dir .]

For every asset with a `dest` under assets/, in the order of project.yml:
  - already there with the right checksum: kept;
  - LOCAL_DATA/<dest without the leading assets/> exists: copied, then its md5 checked;
  - it names an `archive` (path + member) that is in place: the member is extracted;
  - otherwise it is reported missing, which is an error unless the asset is weasel's
    `extra: true` (the withheld test splits and alternative sources), which is optional.
A file whose md5 differs from project.yml is never put in place. Afterwards `spacy project
assets` skips every file that is present with its checksum and downloads the rest.
Exit status: 0 when every required asset is in place, 1 otherwise.
"""
import argparse
import hashlib
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import srsly

ASSETS_DIR = "assets"


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_assets(project_dir: Path) -> List[Dict]:
    """The assets of project.yml (checked with weasel's loader when it is installed)."""
    try:
        from weasel.util import load_project_config
    except ImportError:  # pragma: no cover - weasel comes with spaCy
        return srsly.read_yaml(project_dir / "project.yml").get("assets", [])
    return load_project_config(project_dir).get("assets", [])


def is_optional(asset: Dict) -> bool:
    """Whether an asset may be missing: weasel's `extra: true` (fetched only with --extra)."""
    return bool(asset.get("extra"))


def _install(source_open, dest: Path, checksum: Optional[str]) -> Tuple[bool, str]:
    """Write a file through a temporary name; keep it only when its md5 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    try:
        with source_open() as source, partial.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        actual = md5sum(partial)
        if checksum and actual != checksum.lower():
            return False, f"md5 {actual} != {checksum} in project.yml: not copied"
        partial.replace(dest)
        return True, ""
    finally:
        partial.unlink(missing_ok=True)


def place_asset(asset: Dict, project_dir: Path, local_data: Path) -> Tuple[str, str]:
    """Put one asset in place; (status, detail) with status present|copied|extracted|missing|failed."""
    dest = project_dir / asset["dest"]
    checksum = asset.get("checksum")
    problem = ""
    if dest.exists():
        if not checksum or md5sum(dest) == checksum.lower():
            return "present", ""
        problem = "present with a different md5; "
    relative = Path(asset["dest"]).relative_to(ASSETS_DIR)
    local = local_data / relative
    if local.is_file():
        ok, why = _install(lambda: local.open("rb"), dest, checksum)
        return ("copied", f"from {local}") if ok else ("failed", problem + f"{local}: {why}")
    archive = asset.get("archive")
    if archive and (project_dir / archive["path"]).is_file():
        zip_path = project_dir / archive["path"]
        with zipfile.ZipFile(zip_path) as zipped:
            if archive["member"] not in zipped.namelist():
                return "failed", problem + f"{zip_path} has no member {archive['member']}"
            ok, why = _install(lambda: zipped.open(archive["member"]), dest, checksum)
        where = f"{zip_path}:{archive['member']}"
        return ("extracted", f"from {where}") if ok else ("failed", problem + f"{where}: {why}")
    if problem:
        return "failed", problem + f"and not in {local_data}"
    return "missing", f"not in {local_data}" + ("; optional" if is_optional(asset) else "")


def copy_assets(project_dir: Path, local_data: Path) -> List[Tuple[str, str, str, bool]]:
    """(dest, status, detail, optional) for every file asset under assets/."""
    report = []
    for asset in load_assets(project_dir):
        dest = asset.get("dest", "")
        if "git" in asset or Path(dest).parts[:1] != (ASSETS_DIR,):
            continue
        status, detail = place_asset(asset, project_dir, local_data)
        report.append((dest, status, detail, is_optional(asset)))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--local-data", type=Path, required=True)
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    args = parser.parse_args()
    if not args.local_data.is_dir():
        print(f"local_data folder {args.local_data} not found: nothing to copy")
    report = copy_assets(args.project_dir, args.local_data)
    errors = 0
    for dest, status, detail, optional in report:
        error = status == "failed" or (status == "missing" and not optional)
        errors += error
        mark = "✘" if error else ("–" if status == "missing" else "✔")
        print(f"{mark} {status:<9} {dest}" + (f"  ({detail})" if detail else ""))
    missing = [dest for dest, status, _, _ in report if status == "missing"]
    if missing:
        print(f"{len(missing)} missing: `spacy project assets` downloads those with a URL")
    if errors:
        print(f"{errors} required asset(s) missing or with a wrong checksum", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
