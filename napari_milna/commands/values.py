"""The checks in front of every subcommand: option types with user-facing names and limits.

Each type is an argparse ``type=`` that refuses a value in one clause naming what was
expected (``must be a length in mm above 0 and at most 1000, not '-1'``); argparse
prints it as ``milna svc: argument --fwhm: must be ...``. Every number is finite; the
limits are the plausible range of the quantity (a head is smaller than a metre, a TR
shorter than a minute), so that no computation is started on a value it would raise on,
overflow with or allocate gigabytes for. Checks between options and of files against
each other (:func:`check_levels`, :func:`check_band`, ...) raise
:class:`~napari_milna.core.errors.MilnaInputError` naming the option before the work.

Only the standard library at module level: ``milna --help`` imports every command.
"""

from __future__ import annotations

import argparse
import math

from ..core.errors import input_error

#: Largest length anywhere in a head or a scanner's field of view, in mm.
MAX_MM = 1000.0
#: Largest TR / time within a TR, in s.
MAX_TR_S = 60.0
#: Most volumes a run can plausibly have (a few hours at a short TR).
MAX_VOLUMES = 100_000


class _Number:
    """A float (or int) in a range; ``name`` is what argparse calls it, ``what`` says it."""

    def __init__(self, what: str, low=None, high=None, *, low_open=False, high_open=False,
                 integer=False, name="number"):
        self.what, self.low, self.high = what, low, high
        self.low_open, self.high_open, self.integer = low_open, high_open, integer
        self.__name__ = name

    def __call__(self, text: str):
        try:
            value = int(text, 10) if self.integer else float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {self.what}, not {text!r}") from None
        if not math.isfinite(value) or not self._inside(value):
            raise argparse.ArgumentTypeError(f"must be {self.what}, not {text!r}")
        return value

    def _inside(self, value) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or
                                      (self.high_open and value == self.high)):
            return False
        return True


def _mm(low_open: bool, name: str, what: str):
    return _Number(what, 0.0, MAX_MM, low_open=low_open, name=name)


#: A length in mm above 0 (FWHM, radius, FD threshold).
positive_mm = _mm(True, "positive_mm", f"a length in mm above 0 and at most {MAX_MM:g}")
#: A length in mm, 0 allowed (smoothing where 0 means none, distances between peaks).
length_mm = _mm(False, "length_mm", f"a length in mm from 0 to {MAX_MM:g}")
#: A world coordinate in mm.
coordinate_mm = _Number(f"a coordinate in mm between -{MAX_MM:g} and {MAX_MM:g}", -MAX_MM,
                        MAX_MM, name="coordinate_mm")
#: A probability, 0 and 1 included.
probability = _Number("a probability from 0 to 1", 0.0, 1.0, name="probability")
#: A fraction above 0, 1 included (coverage of a voxel).
fraction = _Number("a fraction above 0 and at most 1", 0.0, 1.0, low_open=True,
                   name="fraction")
#: A level strictly between 0 and 1 (alpha, p thresholds, signal ratios).
level = _Number("a number strictly between 0 and 1", 0.0, 1.0, low_open=True, high_open=True,
                name="level")
#: A repetition time in s.
tr_seconds = _Number(f"a repetition time in s above 0 and at most {MAX_TR_S:g}", 0.0,
                     MAX_TR_S, low_open=True, name="tr_seconds")
#: A time within a TR in s (checked against the TR once it is known).
seconds_in_tr = _Number(f"a time in s from 0 to {MAX_TR_S:g} (within the TR)", 0.0, MAX_TR_S,
                        name="seconds_in_tr")
#: A duration in s above 0 (the heart-rate window).
window_seconds = _Number("a duration in s above 0 and at most 600", 0.0, 600.0, low_open=True,
                         name="window_seconds")
#: A frequency in Hz, 0 meaning no filter.
frequency_hz = _Number("a frequency in Hz from 0 (no filter) to 10", 0.0, 10.0,
                       name="frequency_hz")
#: Degrees of freedom.
degrees_of_freedom = _Number("degrees of freedom above 0 (at most 1e9)", 0.0, 1e9,
                             low_open=True, name="degrees_of_freedom")
#: An echo time in ms.
echo_time_ms = _Number("an echo time in ms above 0 and at most 1000", 0.0, 1000.0,
                       low_open=True, name="echo_time_ms")
#: A whole number from 0.
count = _Number("a whole number from 0", 0, 10**9, integer=True, name="count")
#: A whole number from 1.
positive_count = _Number("a whole number from 1", 1, 10**9, integer=True, name="positive_count")
#: A label value of a label image.
label = _Number("a label: a whole number from 1", 1, 2**31 - 1, integer=True, name="label")
#: A contrast of an analysis folder.
contrast_number = _Number("a contrast number: a whole number from 1", 1, 10**6, integer=True,
                          name="contrast_number")
#: Random flips: 0 (all flips, or 10000) up to a hundred million.
permutations = _Number("0 (all flips) or a whole number of flips up to 100000000", 0, 10**8,
                       integer=True, name="permutations")
#: A random seed.
random_seed = _Number("a whole number from 0 to 4294967295", 0, 2**32 - 1, integer=True,
                      name="random_seed")
#: Worker processes.
workers = _Number("a number of worker processes from 1 to 1024", 1, 1024, integer=True,
                  name="workers")
#: Volumes of a run.
n_volumes = _Number(f"a number of volumes from 1 to {MAX_VOLUMES}", 1, MAX_VOLUMES,
                    integer=True, name="n_volumes")
#: A RETROICOR Fourier order.
fourier_order = _Number("a Fourier order: a whole number from 0 to 10", 0, 10, integer=True,
                        name="fourier_order")
#: A polynomial degree of detrending.
degree = _Number("a degree from 0 to 10", 0, 10, integer=True, name="degree")
#: An erosion in voxels.
erosion = _Number("an erosion in voxels from 0 to 10", 0, 10, integer=True, name="erosion")
#: Heights of TFCE.
tfce_steps = _Number("a number of heights from 1 to 10000", 1, 10_000, integer=True,
                     name="tfce_steps")
#: Cluster connectivity (argparse's choices say which).
neighbours = _Number("a connectivity: 6, 18 or 26 neighbours", integer=True, name="neighbours")
#: A slice index (checked against the grid once it is known).
slice_index = _Number("a slice index: a whole number from 0", 0, 10**6, integer=True,
                      name="slice_index")


# --------------------------------------------------------------------- checks between options
def check_band(high_pass: float | None, low_pass: float | None, tr: float | None = None,
               *, owner=None) -> None:
    """A band-pass whose high-pass lies below its low-pass, both below Nyquist (1 / 2 TR).

    ``None`` or 0 means no filter on that side. ``owner`` is the run (its TR gives
    Nyquist).
    """
    high, low = high_pass or 0.0, low_pass or 0.0
    if high and low and high >= low:
        raise input_error(None, f"--high-pass {high:g} Hz must lie below --low-pass {low:g} Hz")
    if tr:
        nyquist = 1.0 / (2.0 * tr)
        for option, value in (("--high-pass", high), ("--low-pass", low)):
            if value and value >= nyquist:
                raise input_error(owner, f"has a TR of {tr:g} s, so --{option[2:]} {value:g} "
                                         f"Hz lies at or above its Nyquist frequency "
                                         f"{nyquist:g} Hz")


def check_slice_time(slice_time: float | None, tr: float | None, *, owner=None) -> None:
    """A slice time inside the TR ``[0, TR)``."""
    if slice_time is not None and tr and not 0 <= slice_time < tr:
        where = "the TR" if owner is None else f"the TR of {owner}"
        raise input_error(None, f"--slice-time {slice_time:g} s lies outside {where} "
                                f"({tr:g} s): give a time from 0 to below {tr:g} s")


def check_orders(orders) -> None:
    """RETROICOR orders that give at least one regressor."""
    if orders is not None and not any(orders):
        raise input_error(None, "--orders 0 0 0 gives no RETROICOR regressor; give at least "
                                "one order above 0 (the protocol: 3 4 1)")


def check_slice_index(index: int | None, n_slices: int, owner) -> None:
    """A slice index on a grid of ``n_slices`` slices."""
    if index is not None and not 0 <= index < n_slices:
        raise input_error(owner, f"has {n_slices} slices (0 to {n_slices - 1}); --slice {index} "
                                 "does not exist")
