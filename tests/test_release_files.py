"""The release plumbing says what the README promises: images for both architectures with
labels, an SBOM and provenance on a version tag; updates for every ecosystem the project
uses. (GitHub runs these files; here they are read as data.)"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def test_a_version_tag_builds_both_architectures_with_labels_sbom_and_provenance() -> None:
    workflow = load(".github/workflows/release.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert triggers == {"push": {"tags": ["v*.*.*"]}}
    assert workflow["permissions"] == {}, "nothing granted beyond the one job"
    job = workflow["jobs"]["image"]
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    steps = job["steps"]
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


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it() -> None:
    """A tag can be moved to other code after review; a commit id cannot. The version in
    the comment is what Dependabot reads and bumps together with the id."""
    for name in ("ci.yml", "release.yml"):
        text = (ROOT / ".github/workflows" / name).read_text()
        uses = re.findall(r"uses:\s*(\S+)(.*)", text)
        assert uses, name
        for action, comment in uses:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), (name, action)
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), (name, action, comment)


def test_contributors_ci_runs_the_same_script_with_a_pinned_real_server() -> None:
    workflow = load(".github/workflows/ci.yml")
    assert set(workflow[True]) == {"push", "pull_request"}
    steps = workflow["jobs"]["test"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs[-1].strip() == 'GOTOSOCIAL_BIN="$GOTOSOCIAL_DIR/gotosocial" bash .ci/run'
    assert not any(".ci/run" in run for run in runs[:-1]), ".ci/run and nothing else tests"
    uv = next(step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv"))
    assert uv["with"]["enable-cache"] is True
    commit = workflow["env"]["GOTOSOCIAL_COMMIT"]
    assert re.fullmatch(r"[0-9a-f]{40}", commit), "pinned by a full commit id"
    build = next(run for run in runs if "go build" in run)
    assert 'test "$(git -C "$src" rev-parse HEAD)" = "$GOTOSOCIAL_COMMIT"' in build
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["key"] == "gotosocial-${{ env.GOTOSOCIAL_COMMIT }}"


def test_the_pinned_server_is_the_one_the_suite_was_verified_against() -> None:
    named = os.environ.get("GOTOSOCIAL_BIN")
    if not named or not Path(named).is_file():
        pytest.skip("GOTOSOCIAL_BIN names no GoToSocial here (.ci/run sets it where there is one)")
    built = re.search(rb"vcs\.revision=([0-9a-f]{40})", Path(named).read_bytes())
    assert built is not None, "a Go binary records the commit it was built from"
    pinned = load(".github/workflows/ci.yml")["env"]["GOTOSOCIAL_COMMIT"]
    assert built.group(1).decode() == pinned


def test_compose_runs_the_released_image_and_builds_only_when_asked() -> None:
    compose = load("config/compose.yaml")["services"]["arxiv-bot"]
    assert "build" not in compose, "the default pulls the released image"
    image = compose["image"]
    name, version = image.rsplit(":", 1)
    assert name.startswith("ghcr.io/")
    assert version == ".".join(VERSION.split(".")[:2]), "the release's major.minor tag"
    readme = (ROOT / "README.md").read_text()
    assert f"--restart unless-stopped {image}" in readme, "the README runs the same image"
    build = load("config/compose.build.yaml")["services"]["arxiv-bot"]
    assert build["build"]["context"] == ".."
    assert (ROOT / "config" / build["build"]["context"] / "Dockerfile").is_file()
    assert "](../../actions/workflows/ci.yml)" in readme.split("\n## ")[0], "the CI badge on top"
