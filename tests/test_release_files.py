"""The release plumbing says what the README promises: images for both architectures with
labels, an SBOM and provenance on a version tag; updates for every ecosystem the project
uses. (GitHub runs these files; here they are read as data.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent


def load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def test_a_version_tag_builds_both_architectures_with_labels_sbom_and_provenance() -> None:
    workflow = load(".github/workflows/release.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert triggers == {"push": {"tags": ["v*.*.*"]}}
    assert workflow["permissions"]["packages"] == "write"
    steps = workflow["jobs"]["image"]["steps"]
    by_action = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    meta = by_action["docker/metadata-action"]["with"]
    assert meta["images"] == "ghcr.io/${{ github.repository }}"
    assert "type=semver,pattern={{version}}" in meta["tags"]
    assert "org.opencontainers.image.licenses=MIT" in meta["labels"]
    build = by_action["docker/build-push-action"]["with"]
    assert build["platforms"].split(",") == ["linux/amd64", "linux/arm64"]
    assert build["labels"] == "${{ steps.meta.outputs.labels }}"  # source, version, revision
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"
    assert "docker/setup-qemu-action" in by_action, "arm64 is built under emulation"


def test_updates_are_proposed_for_every_ecosystem_the_project_uses() -> None:
    config = load(".github/dependabot.yml")
    ecosystems = {u["package-ecosystem"] for u in config["updates"]}
    assert ecosystems == {"uv", "github-actions", "docker"}
    assert (ROOT / "uv.lock").exists()
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert all(":" in base for base in bases), "tagged bases, so updates have a version to bump"
