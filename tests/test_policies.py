"""Filter policies: presets, policy files, compound expressions and exclusion reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.stages.filter.policy import PolicyError, load_policy, parse_policy, preset_names

LICENSES = ["CC0-1.0", "CC-PDDC", "LicenseRef-PublicDomain", "CC-BY-4.0", "MIT",
            "Apache-2.0", "CC-BY-SA-4.0", "GPL-3.0-only", "GFDL-1.3-only", "CC-BY-NC-4.0",
            "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0",
            "LicenseRef-All-Rights-Reserved", "NOASSERTION"]

EXPECTED_PASSING = {
    "public-domain": {"CC0-1.0", "CC-PDDC", "LicenseRef-PublicDomain"},
    "permissive": {"CC0-1.0", "CC-PDDC", "LicenseRef-PublicDomain", "CC-BY-4.0", "MIT",
                   "Apache-2.0"},
    "open": {"CC0-1.0", "CC-PDDC", "LicenseRef-PublicDomain", "CC-BY-4.0", "MIT",
             "Apache-2.0", "CC-BY-SA-4.0", "GPL-3.0-only", "GFDL-1.3-only"},
    "noncommercial-ok": {"CC0-1.0", "CC-PDDC", "LicenseRef-PublicDomain", "CC-BY-4.0", "MIT",
                         "Apache-2.0", "CC-BY-SA-4.0", "GPL-3.0-only", "GFDL-1.3-only",
                         "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"},
}


def test_presets_are_shipped() -> None:
    assert set(preset_names()) == set(EXPECTED_PASSING)


@pytest.mark.parametrize("preset", sorted(EXPECTED_PASSING))
def test_preset_allows_exactly_its_categories(preset: str) -> None:
    policy = load_policy(preset)
    passing = {lic for lic in LICENSES if policy.license_reason(lic) is None}
    assert passing == EXPECTED_PASSING[preset]
    assert policy.source == f"preset:{preset}"
    assert not policy.allow_optout and not policy.allow_conflict


def test_default_policy_is_open() -> None:
    assert load_policy(None).name == "open"


@pytest.mark.parametrize(("license_", "reason"), [
    ("CC-BY-NC-4.0", "category:noncommercial"),
    ("CC-BY-ND-4.0", "category:no-derivatives"),
    ("CC-BY-SA-4.0", "category:copyleft"),
    ("LicenseRef-All-Rights-Reserved", "category:reserved"),
    ("NOASSERTION", "category:unknown"),
])
def test_failing_license_reason_names_its_category(license_: str, reason: str) -> None:
    assert load_policy("permissive").license_reason(license_) == reason


def test_invalid_expression_has_its_own_reason() -> None:
    policy = load_policy("open")
    assert policy.license_reason("MIT OR OR (") == "license-invalid"
    assert policy.license_reason("Not-A-Real-License-1.0") == "license-invalid"


def test_missing_license_is_noassertion() -> None:
    assert load_policy("open").license_reason(None) == "category:unknown"


@pytest.mark.parametrize(("expression", "preset", "passes"), [
    ("MIT OR GPL-3.0-only", "permissive", True),
    ("GPL-3.0-only OR MIT", "permissive", True),
    ("MIT AND CC-BY-NC-4.0", "permissive", False),
    ("MIT AND CC-BY-NC-4.0", "noncommercial-ok", True),
    ("MIT AND CC-BY-SA-4.0", "permissive", False),
    ("MIT AND CC-BY-SA-4.0", "open", True),
    ("CC-BY-NC-4.0 OR CC-BY-ND-4.0", "open", False),
    ("GPL-2.0-only WITH Classpath-exception-2.0", "open", True),
    ("GPL-2.0-only WITH Classpath-exception-2.0", "permissive", False),
    ("(MIT OR CC-BY-NC-4.0) AND CC0-1.0", "permissive", True),
])
def test_compound_expressions(expression: str, preset: str, passes: bool) -> None:
    assert (load_policy(preset).license_reason(expression) is None) is passes


def test_compound_and_fails_with_the_restrictive_category() -> None:
    assert (load_policy("permissive").license_reason("MIT AND CC-BY-NC-4.0")
            == "category:noncommercial")


def _write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_policy_file_with_allowed_and_denied_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, """
name = "cc-family"
categories = ["permissive", "copyleft"]
allowed_ids = ["LicenseRef-CC-BY-SA-3.0-ES", "cc-by-nc-4.0"]
denied_ids = ["GFDL-1.3-only"]
min_confidence = 0.7
allow_optout = true
""")
    policy = load_policy(path)
    assert policy.name == "cc-family"
    assert policy.min_confidence == pytest.approx(0.7)
    assert policy.allow_optout and not policy.allow_conflict
    assert policy.allowed_ids == {"LicenseRef-CC-BY-SA-3.0-ES", "CC-BY-NC-4.0"}
    assert policy.license_reason("CC-BY-SA-4.0") is None
    assert policy.license_reason("LicenseRef-CC-BY-SA-3.0-ES") is None
    assert policy.license_reason("CC-BY-NC-4.0") is None
    assert policy.license_reason("CC-BY-NC-SA-4.0") == "category:noncommercial"
    assert policy.license_reason("GFDL-1.3-only") == "license-denied:GFDL-1.3-only"
    assert policy.license_reason("MIT AND GFDL-1.3-only") == "license-denied:GFDL-1.3-only"
    assert policy.license_reason("MIT OR GFDL-1.3-only") is None
    assert policy.describe()["denied_ids"] == ["GFDL-1.3-only"]


def test_policy_file_of_ids_only(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, 'allowed_ids = ["CC-BY-4.0"]\n'))
    assert policy.name == "mine"
    assert policy.license_reason("CC-BY-4.0") is None
    assert policy.license_reason("MIT") == "category:permissive"


@pytest.mark.parametrize(("text", "message"), [
    ('categories = ["permissive"]\ncolour = "red"\n', "unknown keys colour"),
    ('categories = ["open-ish"]\n', "unknown categories open-ish"),
    ('categories = "permissive"\n', "categories has the wrong type"),
    ('categories = ["permissive"]\nmin_confidence = 1.5\n', "within 0..1"),
    ('categories = ["permissive"]\nmin_confidence = true\n', "min_confidence has the wrong"),
    ('categories = ["permissive"]\nallow_optout = "yes"\n', "allow_optout has the wrong"),
    ('categories = ["permissive"]\ndenied_ids = ["Not-A-License"]\n', "denied_ids"),
    ('allowed_ids = ["MIT OR CC0-1.0"]\n', "not a single license id"),
    ('categories = []\n', "allows nothing"),
    ('categories = ["permissive"\n', "not valid TOML"),
])
def test_bad_policy_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(PolicyError, match="permissive"):
        load_policy("liberal")


def test_parse_policy_defaults() -> None:
    policy = parse_policy('categories = ["public-domain"]\n', source="inline")
    assert policy.min_confidence == 0.0
    assert policy.denied_ids == frozenset()
    assert policy.name == "inline"
