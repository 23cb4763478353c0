"""The reference protocol's defaults and vocabularies, as plain Python values.

One definition for the numbers and choices that both the core functions (as their
default arguments) and the ``milna`` command (as the defaults and choices its help
shows) use. This module imports nothing, so the command line can build its parser
without loading numpy, scipy or nilearn.

The protocol (see the design card): scrub volumes with FD > 0.5 mm, smooth 5 mm,
cosine drift 128 s, RETROICOR with Fourier orders 3 / 4 / 1, a conservative CSF mask
(probability > 0.9, eroded once) as nuisance regressor, resting-state band 0.01-0.1 Hz.
"""

from __future__ import annotations

# --- motion (Power 2012) -------------------------------------------------------------------

#: Motion file formats understood by ``core.preproc.motion.read_motion``.
MOTION_FORMATS = ("spm", "fsl", "afni", "fmriprep")
#: Head radius (mm) turning rotations into displacements on a sphere (Power 2012).
HEAD_RADIUS_MM = 50.0
#: FD threshold in mm (the protocol: scrub volumes with FD > 0.5 mm).
FD_THRESHOLD_MM = 0.5

# --- slice timing and RETROICOR --------------------------------------------------------------

#: Slice orders understood by ``core.preproc.slice_timing.slice_order``.
SLICE_ORDERS = ("ascending", "descending", "interleaved", "interleaved_siemens")
#: RETROICOR Fourier orders: cardiac, respiratory, interaction (Glover 2000, Harvey 2008).
FOURIER_ORDERS = (3, 4, 1)
#: Physiological noise models: RETROICOR alone, or with RVT and heart rate convolved with
#: their response functions (Birn 2008 RRF, Chang 2009 CRF; TAPAS PhysIO's fuller model).
PHYSIO_MODELS = ("retroicor", "retroicor+rvt+hr")
#: Window (s) over which the heart rate is averaged around each volume (TAPAS PhysIO).
HR_WINDOW_S = 6.0

# --- CSF nuisance regressor ------------------------------------------------------------------

#: CSF probability a voxel must exceed to enter the conservative CSF mask.
CSF_LEVEL = 0.9
#: Erosion of the thresholded CSF mask, in voxels.
CSF_EROSION = 1
#: |r| between CSF signal and a task regressor above which a warning is set.
TASK_CORRELATION_LEVEL = 0.3

# --- first level -------------------------------------------------------------------------------

#: Smoothing FWHM (mm) of the first-level pain GLM (4-5 mm for the brainstem, not 8).
GLM_SMOOTHING_FWHM_MM = 5.0
#: Cosine drift cut-off of the first level (Hz): SPM's 128 s.
GLM_HIGH_PASS_HZ = 1.0 / 128.0

# --- resting-state connectivity --------------------------------------------------------------

#: Band-pass of the resting-state signals (Hz).
CONNECTIVITY_HIGH_PASS_HZ = 0.01
CONNECTIVITY_LOW_PASS_HZ = 0.1

# --- QC ----------------------------------------------------------------------------------------

#: Signal ratio to the brain median below which a voxel counts as dropout.
DROPOUT_THRESHOLD = 0.5

# --- ROI seeds ---------------------------------------------------------------------------------

#: Literature seed variants per region (``core.roi.seeds.SEEDS`` holds their shapes).
SEED_VARIANTS = {"PAG": ("cylinder", "sphere"), "RVM": ("canlab", "nrm", "raphe")}
#: Variant used when none is named.
DEFAULT_SEED_VARIANT = {"PAG": "cylinder", "RVM": "canlab"}
#: Fraction of a voxel a seed shape must cover for the voxel to join the ROI.
SEED_FRACTION = 0.5

# --- small-volume correction -----------------------------------------------------------------

#: Family-wise error level.
SVC_ALPHA = 0.05
#: Uncorrected p defining clusters and listed peaks.
SVC_HEIGHT_P = 0.001
#: Minimum distance between listed peaks of a cluster (SPM SVC: 4 mm).
SVC_MIN_DISTANCE_MM = 4.0
#: Cluster connectivity (SPM: 18).
SVC_CONNECTIVITY = 18

# --- crossover ---------------------------------------------------------------------------------

#: How a subject's contrast is formed from its drug / placebo maps.
CONTRAST_KINDS = ("interaction", "difference")
