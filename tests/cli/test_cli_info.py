import json

import nibabel as nib
import numpy as np

from napari_milna.cli import main


def test_info_json_matches_nibabel(spm_tmap, capsys):
    assert main(["info", str(spm_tmap), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    img = nib.load(str(spm_tmap))
    assert out["shape"] == list(img.shape)
    np.testing.assert_allclose(out["affine"], img.affine)
    np.testing.assert_allclose(out["zooms"], img.header.get_zooms()[:3])
    assert out["axcodes"] == "".join(nib.aff2axcodes(img.affine)) == "LAS"
    assert (out["kind"], out["stat_type"], out["df"]) == ("stat", "T", 20.0)


def test_info_oblique_run(oblique_epi, capsys):
    assert main(["info", str(oblique_epi), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "run" and out["n_volumes"] == 5 and out["oblique"] is True
    assert out["tr"] == 2.5


def test_bad_input_exit_2_one_line(bad_files, capsys):
    for path in bad_files.values():
        assert main(["info", str(path), "--json"]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and path.name.split(".")[0] in lines[0]
