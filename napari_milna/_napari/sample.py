"""napari sample data: the bundled brainstem pharmaco-fMRI study."""

from __future__ import annotations

from ..core.io.geometry import DisplaySpace
from ..core.io.kinds import ImageKind
from ..core.io.nifti import load_volume
from .layers import layer_tuple

#: Where the viewer opens: the PAG centroid in MNI mm (Satpute et al. 2013; DESIGN.md).
PAG_MNI = (0.5, -31.0, -9.0)


def sample_study_layers() -> list[tuple]:
    """Layers of the sample study: template T1, pain run, group interaction T map, masks.

    The study is generated on first use (deterministic, cached; see
    ``napari_milna.sample_data``). The viewer opens on the PAG.
    """
    import napari

    from ..sample_data import ensure_sample_study
    from .viewer_state import ViewerState

    study = ensure_sample_study()
    viewer = napari.current_viewer()
    state = ViewerState.of(viewer) if viewer is not None else None
    space = state.space if state is not None else DisplaySpace.world()
    plan = [
        (study.anat_t1w, {"name": "T1w template", "visible": True}),
        (study.bold, {"name": "pain run (sub-01)", "visible": False}),
        (study.csf_probseg, {"name": "CSF probability", "visible": False}),
        (study.brain_mask, {"name": "brain mask", "visible": False}),
        (study.group_tmap, {"name": "drug x pain interaction (T, df 14)", "visible": True}),
    ]
    layers = []
    for path, overrides in plan:
        data, kwargs, layer_type = layer_tuple(load_volume(path, allow_run=True), space)
        kwargs.update(overrides)
        src = kwargs["metadata"]["milna"]
        if src.info.kind == ImageKind.STAT:
            src.focus_mm = PAG_MNI
        layers.append((data, kwargs, layer_type))
    return layers
