"""Atomic multi-leg execution: hedged legs on several venues open together or not at all."""

from execution.atomic.executor import AtomicMultiOrderExecutor
from execution.atomic.legs import Leg
from execution.atomic.operations import OperationStore
from execution.atomic.policy import AtomicTolerances, ImbalancePolicy
from execution.atomic.recovery import Recovery, recover_operations, start_recovery
from execution.atomic.result import AtomicResult, AtomicStatus, LegResult

__all__ = [
    "AtomicMultiOrderExecutor",
    "AtomicResult",
    "AtomicStatus",
    "AtomicTolerances",
    "ImbalancePolicy",
    "Leg",
    "LegResult",
    "OperationStore",
    "Recovery",
    "recover_operations",
    "start_recovery",
]
