"""The planted causes of slowdown, and the application profiles they act on.

A job's runtime is decided when it starts, from the recent state of the machine::

    runtime = base * (1 + s_net * congestion) * (1 + s_io * io_load)
                   * (1 + s_spread * (groups_spanned - 1)) * exp(noise),   noise ~ N(0, sd)

- ``congestion``: mean over the job's hosts of ``c_g``, the exponential moving average (time
  constant ``TAU_S``, 30 min) up to the job's start of ``(u_g / U_REF)**2``, where ``u_g`` is the
  mean network intensity (0–1) of the jobs on the hosts of dragonfly group ``g`` (the job itself
  is not running yet). The same quantity drives the stall counters: stalls per flit in group
  ``g`` are ``STALL_BASE + STALL_SLOPE * (u_g / U_REF)**2`` at each moment.
- ``io_load``: the same moving average of the bytes/s all running jobs read and write on Lustre,
  divided by the file system's capacity (``FS_BYTES_PER_S_PER_NODE * nodes``); the same bytes
  appear in the ``lustre_client`` counters.
- ``groups_spanned``: how many dragonfly groups the job's hosts lie in (placement spread).

The sensitivities ``s_*`` are per application (:data:`APPS`). Because jobs last many sampling
intervals, the state just before a job starts (what START-horizon features see) is close to the
state used here, and the system-wide state at submission is correlated with it. The moving average
stands for congestion and file-system backlog that build up and drain over tens of minutes: a job
meets the load of the recent past, which is exactly what look-back features can see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["App", "APPS", "CONTROL_APPS", "STALL_BASE", "STALL_SLOPE", "FS_BYTES_PER_S_PER_NODE",
           "NOISE_SD", "U_REF", "TAU_S", "congestion_of", "slowdown", "stall_ratio", "expected_relative_mae"]

STALL_BASE = 0.02
STALL_SLOPE = 0.15
U_REF = 0.5
TAU_S = 1800.0
FS_BYTES_PER_S_PER_NODE = 100e6
#: sd of the log-normal noise on every job's runtime: the irreducible error.
NOISE_SD = 0.08


@dataclass(frozen=True)
class App:
    """Resource profile (per node, while running) and sensitivity to the planted causes."""

    net: float  # network intensity, 0..1 of the NIC's injection bandwidth
    read_mb_s: float  # Lustre read MB/s per node
    write_mb_s: float  # Lustre write MB/s per node
    meta_per_s: float  # metadata operations per second per node
    cpu: float  # user CPU fraction
    mem: float  # fraction of node memory in use
    s_net: float  # slowdown per unit congestion
    s_io: float  # slowdown per unit io_load
    s_spread: float  # slowdown per extra group spanned
    base_s: float = 0.0  # control applications: fixed base runtime (s); 0 for user applications


APPS: dict[str, App] = {
    # Control applications (Costello & Bhatele): fixed sizes and inputs, submitted repeatedly.
    "amg": App(0.55, 5, 20, 5, 0.85, 0.50, s_net=0.6, s_io=0.05, s_spread=0.08, base_s=900),
    "milc": App(0.70, 2, 10, 2, 0.90, 0.35, s_net=0.6, s_io=0.0, s_spread=0.05, base_s=1200),
    "minivite": App(0.80, 50, 1, 1, 0.70, 0.60, s_net=0.8, s_io=0.1, s_spread=0.10, base_s=600),
    "umt": App(0.30, 80, 150, 50, 0.90, 0.55, s_net=0.1, s_io=1.2, s_spread=0.02, base_s=1500),
    # User applications.
    "lammps": App(0.50, 2, 20, 5, 0.90, 0.30, s_net=0.27, s_io=0.05, s_spread=0.04),
    "gromacs": App(0.60, 1, 10, 2, 0.95, 0.20, s_net=0.33, s_io=0.02, s_spread=0.05),
    "vasp": App(0.70, 5, 30, 10, 0.85, 0.70, s_net=0.33, s_io=0.10, s_spread=0.05),
    "wrf": App(0.40, 300, 400, 200, 0.80, 0.50, s_net=0.13, s_io=0.60, s_spread=0.02),
    "cp2k": App(0.50, 2, 5, 5, 0.90, 0.40, s_net=0.27, s_io=0.05, s_spread=0.04),
    "nekrs": App(0.75, 1, 50, 2, 0.85, 0.45, s_net=0.47, s_io=0.10, s_spread=0.06),
    "python": App(0.05, 400, 150, 800, 0.40, 0.30, s_net=0.0, s_io=0.70, s_spread=0.0),
    "namd": App(0.45, 1, 5, 1, 0.95, 0.25, s_net=0.23, s_io=0.02, s_spread=0.03),
}
CONTROL_APPS = ("amg", "milc", "minivite", "umt")
USER_APPS = tuple(a for a in APPS if a not in CONTROL_APPS)


def congestion_of(u):
    """Congestion index of a group whose hosts carry mean network intensity ``u`` (array-friendly)."""
    return np.square(np.asarray(u) / U_REF)


def stall_ratio(u):
    """Stalls per flit in a group whose hosts carry mean network intensity ``u`` (array-friendly)."""
    return STALL_BASE + STALL_SLOPE * congestion_of(u)


def slowdown(app: App, *, congestion: float, io_load: float, groups_spanned: int) -> float:
    """The multiplicative slowdown (>= 1) of ``app`` under the given state, before noise.

    Examples
    --------
    >>> slowdown(APPS["umt"], congestion=0.0, io_load=1.0, groups_spanned=1)
    2.2
    """
    return ((1 + app.s_net * congestion) * (1 + app.s_io * io_load)
            * (1 + app.s_spread * (groups_spanned - 1)))


def expected_relative_mae(sd: float = NOISE_SD) -> float:
    """E|exp(e) - 1| for e ~ N(0, sd): the relative MAE of an oracle that knows everything but e.

    It equals ``exp(sd**2 / 2) * (2 * Phi(sd) - 1)``.

    Examples
    --------
    >>> round(expected_relative_mae(0.05), 4)
    0.0399
    >>> round(expected_relative_mae(0.08), 3)
    0.064
    """
    from math import erf, exp, sqrt

    return exp(sd * sd / 2) * erf(sd / sqrt(2))


def apps_table() -> dict[str, dict]:
    """The profiles and sensitivities as plain dicts (for truth.json)."""
    return {name: asdict(app) for name, app in APPS.items()}
