#!/usr/bin/env python3
"""Refresh the vendored SPDX licence texts in src/licensegate/data/licenses/ from the npm package spdx-license-list.

Usage: python scripts/refresh_licence_texts.py [--version 6.12.0] [--tarball spdx-license-list-6.12.0.tgz]

Without --tarball the script runs `npm pack spdx-license-list@VERSION` in a temporary folder. It vendors the
licences our data files name (signatures, model licences, Java packages, obligations) plus COMMON below, each as
`<SPDX-id>.json` holding the package's own fields (name, url, osiApproved, licenseText), and writes index.json
naming the source package and version. The package is CC0-1.0; the licence texts are those of the SPDX License List.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "src" / "licensegate" / "data"
OUT = DATA / "licenses"
DEFAULT_VERSION = "6.12.0"

# Licences common enough in mobile apps that a notices file should never lack their text.
COMMON = [
    "0BSD", "AFL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-1.1", "Apache-2.0", "Artistic-2.0",
    "BSD-1-Clause", "BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause", "BSL-1.0", "CC-BY-3.0", "CC-BY-4.0",
    "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-ND-4.0", "CC0-1.0", "CDDL-1.0", "CDDL-1.1",
    "CDLA-Permissive-2.0", "curl", "EPL-1.0", "EPL-2.0", "FTL", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
    "GPL-3.0-or-later", "ICU", "IJG", "ISC", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "Libpng", "libpng-2.0", "MIT", "MIT-0", "MPL-1.1",
    "MPL-2.0", "MS-PL", "NCSA", "OFL-1.1", "OpenSSL", "PSF-2.0", "Python-2.0", "Unicode-3.0", "Unicode-DFS-2016",
    "Unlicense", "UPL-1.0", "W3C", "WTFPL", "X11", "Zlib", "blessing", "bzip2-1.0.6",
]

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-]*")


def ids_named_in_data(known: set[str]) -> set[str]:
    found: set[str] = set()
    for path in DATA.rglob("*.toml"):
        for tok in _TOKEN.findall(path.read_text(encoding="utf-8")):
            if tok in known:
                found.add(tok)
    return found


def fetch(version: str, workdir: Path) -> Path:
    subprocess.run(["npm", "pack", f"spdx-license-list@{version}"], cwd=workdir, check=True, capture_output=True)
    return workdir / f"spdx-license-list-{version}.tgz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--tarball", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch(args.version, Path(tmp))
        texts: dict[str, dict[str, object]] = {}
        with tarfile.open(tarball) as tf:
            pkg = json.load(tf.extractfile("package/package.json"))  # type: ignore[arg-type]
            for m in tf.getmembers():
                if m.isfile() and m.name.startswith("package/licenses/") and m.name.endswith(".json"):
                    texts[m.name.rsplit("/", 1)[1][:-5]] = json.load(tf.extractfile(m))  # type: ignore[arg-type]
    wanted = sorted((ids_named_in_data(set(texts)) | set(COMMON)) & set(texts), key=str.lower)
    missing = sorted(set(COMMON) - set(texts))
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for ident in wanted:
        entry = texts[ident]
        record = {"id": ident, "name": entry.get("name"), "url": entry.get("url"),
                  "osiApproved": entry.get("osiApproved"), "licenseText": entry.get("licenseText")}
        (OUT / f"{ident}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    index = {"source": "npm package spdx-license-list (https://github.com/sindresorhus/spdx-license-list)",
             "package_license": pkg.get("license"), "version": pkg["version"], "ids": wanted}
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    print(f"vendored {len(wanted)} licence texts from spdx-license-list {pkg['version']} into {OUT}")
    if missing:
        print(f"not in the package: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
