"""napari sample data: the bundled brainstem pharmaco-fMRI study."""

from __future__ import annotations

from ..core.io.geometry import DisplaySpace
from ..core.io.kinds import ImageKind
from ..core.io.nifti import load_volume
from .layers import layer_tuple
from .reader import open_analysis_layers, register_analysis

#: Where the viewer opens: the PAG centroid in MNI mm (Satpute et al. 2013; DESIGN.md).
PAG_MNI = (0.5, -31.0, -9.0)
#: Name of the second-level analysis mask layer (SPM's ``mask.nii`` of the group T map).
ANALYSIS_MASK_NAME = "analysis mask (second level)"


def sample_study_layers() -> list[tuple]:
    """Layers of the sample study: template T1, pain run, group T map and its masks.

    The study is generated on first use (deterministic, cached; see
    ``napari_milna.sample_data``). Its second level opens as an SPM folder (df and
    smoothness from ``SPM.mat``). The study session takes the group T map as its
    statistical map, the second-level ``mask.nii`` as the analysis mask, the brain
    mask and the CSF probability as the brain and CSF masks, and the run as its run.
    The viewer opens on the PAG.
    """
    import napari

    from ..sample_data import ensure_sample_study
    from .viewer_state import ViewerState

    study = ensure_sample_study()
    viewer = napari.current_viewer()
    state = ViewerState.of(viewer) if viewer is not None else None
    space = state.space if state is not None else DisplaySpace.world()
    plan = [
        (study.anat_t1w, {"name": "T1w template", "visible": True}, None),
        (study.bold, {"name": "pain run (sub-01)", "visible": False}, "run"),
        (study.csf_probseg, {"name": "CSF probability", "visible": False}, "csf"),
        (study.brain_mask, {"name": "brain mask", "visible": False}, "brain"),
    ]
    layers = []
    for path, overrides, role in plan:
        data, kwargs, layer_type = layer_tuple(load_volume(path, allow_run=True), space)
        kwargs.update(overrides)
        src = kwargs["metadata"]["milna"]
        src.session_role = role
        if src.info.kind == ImageKind.STAT:
            src.focus_mm = PAG_MNI
        layers.append((data, kwargs, layer_type))
    # the second level as SPM's folder: group T map (df 14, FWHM from SPM.mat) and mask.nii
    folder_layers, opened = open_analysis_layers(study.group_tmap.parent, state)
    for data, kwargs, layer_type in folder_layers:
        src = kwargs["metadata"]["milna"]
        if src.info.kind == ImageKind.STAT:
            kwargs.update(name="drug x pain interaction (T, df 14)", visible=True)
            src.focus_mm = PAG_MNI
        else:
            kwargs.update(name=ANALYSIS_MASK_NAME, visible=False)
        layers.append((data, kwargs, layer_type))
    register_analysis(opened, viewer)
    return layers
