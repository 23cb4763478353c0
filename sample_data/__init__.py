"""The deterministic sample study (installed as ``napari_milna.sample_data``)."""
