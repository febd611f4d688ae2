"""`make audit`: pip-audit over the hashed locks, with a verdict that cannot pass by accident.

pip-audit says "No known vulnerabilities found" and exits 0 even when it could not reach the
advisory service and skipped every package ("could not be audited"). This reads its JSON report
and fails unless every locked package was actually checked: exit 1 for a known vulnerability,
2 for packages not audited (or pip-audit not running at all), 0 only for a complete clean audit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PIP_AUDIT = Path(sys.executable).parent / "pip-audit"


@dataclass
class Verdict:
    lock: str
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    failure: str = ""

    @property
    def code(self) -> int:
        if self.vulnerable:
            return 1
        return 2 if self.failure or self.skipped else 0

    def lines(self) -> list[str]:
        if self.failure:
            return [f"{self.lock}: NOT AUDITED: pip-audit failed: {self.failure}"]
        out = [f"{self.lock}: {line}" for line in self.vulnerable]
        if self.skipped:
            out.append(
                f"{self.lock}: NOT AUDITED: {len(self.skipped)} of "
                f"{len(self.skipped) + self.audited} packages could not be checked (is the "
                f"advisory service reachable from here?), e.g. {self.skipped[0]}"
            )
        if not out:
            out.append(f"{self.lock}: {self.audited} packages audited, no known vulnerability")
        return out


def judge(lock: str, report: dict[str, Any]) -> Verdict:
    """The verdict on one lock from pip-audit's JSON report (`-f json`)."""
    verdict = Verdict(lock)
    dependencies = report.get("dependencies", [])
    if not dependencies:
        verdict.failure = "its report lists no package"
    for dependency in dependencies:
        name = f"{dependency['name']} {dependency.get('version', '')}".strip()
        if "skip_reason" in dependency:
            verdict.skipped.append(dependency["skip_reason"])
            continue
        verdict.audited += 1
        for vulnerability in dependency.get("vulns", []):
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed version"
            verdict.vulnerable.append(f"{name}: {vulnerability['id']} (fixed in {fixed})")
    return verdict


def audit(lock: str) -> Verdict:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.json"
        # Hashed pins, no resolution: exactly what the lock installs is what gets audited.
        done = subprocess.run(  # fixed arguments, no shell # nosec B603
            [
                str(PIP_AUDIT),
                "--requirement",
                lock,
                "--require-hashes",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not output.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return Verdict(lock, failure=f"exit {done.returncode}, {tail[0]}")
        return judge(lock, json.loads(output.read_text()))


def main(locks: list[str]) -> int:
    verdicts = [audit(lock) for lock in locks]
    for verdict in verdicts:
        for line in verdict.lines():
            print(line)  # noqa: T201 - the target's report
    return max(verdict.code for verdict in verdicts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
