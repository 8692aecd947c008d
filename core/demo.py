"""Demo data for `make run`, contributed by each app in its own demo.py, run in step order."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

DEMO_PASSWORD = "protect-me"

DemoStep = Callable[[datetime], None]


@dataclass(frozen=True)
class _Step:
    position: int
    name: str
    function: DemoStep


_steps: dict[str, _Step] = {}


def demo_step(position: int) -> Callable[[DemoStep], DemoStep]:
    """Register `function(now)` to fill part of the demo; lower positions run first (users before
    orders before disputes). Every step must be idempotent: `make run` runs them each time."""

    def decorate(function: DemoStep) -> DemoStep:
        name = f"{function.__module__}.{function.__name__}"
        _steps[name] = _Step(position, name, function)
        return function

    return decorate


def seed_demo_data(now: datetime | None = None) -> list[str]:
    """Run every step. Not one transaction: the steps call the services a page would, each in a
    durable transaction of its own (docs/architecture.md, "Transactions"); a step stopped half way
    is finished by running the command again, since every step is idempotent."""
    now = now or timezone.now()
    done = []
    for step in sorted(_steps.values(), key=lambda step: (step.position, step.name)):
        step.function(now)
        done.append(step.name)
    return done
