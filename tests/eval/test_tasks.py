"""Fold logic on toy layouts of every dataset format (placeholder files; no audio is read)."""

import json

import numpy as np
import pytest

from audiorep.errors import ConfigError
from audiorep.eval.tasks import load_task, load_tasks
from audiorep.eval.tasks.task import folds_from_fold_ids, make_fold_ids


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def _assert_partition(task):
    """Every fold: train/valid/test disjoint; with k-fold layouts every clip is tested once."""
    for f in task.folds:
        assert not set(f.train) & set(f.test) and not set(f.valid) & set(f.test) and not set(f.train) & set(f.valid)


def test_predefined_folds_rotate_test_and_validation():
    folds = folds_from_fold_ids([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    assert [f.name for f in folds] == ["fold1", "fold2", "fold3", "fold4", "fold5"]
    assert folds[0].test.tolist() == [0, 1] and folds[0].valid.tolist() == [2, 3]
    assert folds[4].test.tolist() == [8, 9] and folds[4].valid.tolist() == [0, 1]  # cyclic
    assert sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(10))
    with pytest.raises(ConfigError, match="at least 3 folds"):
        folds_from_fold_ids([1, 1, 2, 2])


def test_esc50_five_official_folds_and_esc10_subset(tmp_path):
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for i in range(20):
        fold = i % 5 + 1
        cat = ["dog", "rain", "clock"][i % 3]
        lines.append(f"{i}.wav,{fold},{i % 3},{cat},{'True' if cat == 'dog' else 'False'},src{i},A")
    _touch(tmp_path / "meta" / "esc50.csv").write_text("\n".join(lines))
    task = load_task(f"esc50={tmp_path}")
    assert len(task.folds) == 5 and task.clip_seconds == 5.0
    assert task.folds[2].test.tolist() == [2, 7, 12, 17]
    _assert_partition(task)
    esc10 = load_task("esc10", str(tmp_path))
    assert esc10.class_names == ["dog"] and len(esc10.paths) == 7
    # clips of one source recording in two folds would leak: refused
    lines[2] = lines[2].replace("src1", "src0")
    (tmp_path / "meta" / "esc50.csv").write_text("\n".join(lines))
    with pytest.raises(ConfigError, match="source recording 'src0'"):
        load_task(f"esc50={tmp_path}")


def test_speech_commands_lists_define_splits_and_background_noise_is_ignored(tmp_path):
    for word in ("yes", "no"):
        for spk in ("aa", "bb", "cc"):
            _touch(tmp_path / word / f"{spk}_nohash_0.wav")
    _touch(tmp_path / "_background_noise_" / "white.wav")
    (tmp_path / "validation_list.txt").write_text("yes/bb_nohash_0.wav\nno/bb_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("yes/cc_nohash_0.wav\nno/cc_nohash_0.wav\n")
    task = load_task(f"speech_commands={tmp_path}")
    assert task.class_names == ["no", "yes"] and len(task.paths) == 6
    fold = task.folds[0]
    assert {task.groups[i] for i in fold.train} == {"aa"}
    assert {task.groups[i] for i in fold.test} == {"cc"}
    # a speaker in both train and test (lists edited by hand) is refused
    (tmp_path / "testing_list.txt").write_text("yes/cc_nohash_0.wav\n")
    with pytest.raises(ConfigError, match="speaker 'cc' is in both"):
        load_task(f"speech_commands={tmp_path}")


def _fsdd(tmp_path, speakers=("ann", "bob", "cy"), n=5):
    for s in speakers:
        for d in range(3):
            for i in range(n):
                _touch(tmp_path / "recordings" / f"{d}_{s}_{i}.wav")
    return tmp_path


def test_fsdd_digits_leave_one_speaker_out(tmp_path):
    digit, speaker = load_tasks(f"fsdd={_fsdd(tmp_path)}")
    assert digit.name == "fsdd_digit" and [f.name for f in digit.folds] == ["test=ann", "test=bob", "test=cy"]
    for f in digit.folds:
        test_spk = set(digit.groups[f.test])
        assert len(test_spk) == 1
        assert not test_spk & set(digit.groups[f.train]) and not test_spk & set(digit.groups[f.valid])
    assert digit.class_names == ["0", "1", "2"]
    # speaker ID: every speaker in every split, folds by recording index
    assert speaker.class_names == ["ann", "bob", "cy"] and len(speaker.folds) == 5
    for f in speaker.folds:
        assert set(speaker.targets[f.test]) == set(speaker.targets[f.train]) == {0, 1, 2}


def test_fsdd_reads_its_manifest_when_present(tmp_path):
    rows = ["path,label,speaker,index,split"] + [
        f"recordings/{d}_{s}_{i}.wav,{d},{s},{i},{'test' if i == 0 else 'train'}"
        for s in ("a", "b", "c") for d in range(2) for i in range(5)]
    (tmp_path / "manifest.csv").write_text("\n".join(rows))
    task = load_task(f"fsdd_digit={tmp_path}")
    assert len(task.paths) == 30 and len(task.folds) == 3


def test_nsynth_official_splits_and_pitch_task(tmp_path):
    for split, n in (("train", 6), ("valid", 2), ("test", 3)):
        ex = {f"{split}_note_{i}": {"instrument_family_str": ["bass", "keyboard"][i % 2], "pitch": 60 + i % 3,
                                    "instrument_str": f"{split}_inst"} for i in range(n)}
        _touch(tmp_path / f"nsynth-{split}" / "examples.json").write_text(json.dumps(ex))
    inst, pitch = load_tasks(f"nsynth={tmp_path}")
    f = inst.folds[0]
    assert (len(f.train), len(f.valid), len(f.test)) == (6, 2, 3)
    assert inst.class_names == ["bass", "keyboard"]
    assert pitch.pitch_task and pitch.class_names == ["60", "61", "62"] and pitch.primary_metric == "pitch_accuracy"
    assert inst.paths[0].endswith("nsynth-train/audio/train_note_0.wav")


def test_voxceleb1_identification_follows_its_split_file(tmp_path):
    (tmp_path / "iden_split.txt").write_text(
        "1 id10001/vidA/00001.wav\n1 id10002/vidC/00001.wav\n2 id10001/vidA/00002.wav\n"
        "2 id10002/vidC/00002.wav\n3 id10001/vidB/00001.wav\n3 id10002/vidD/00001.wav\n")
    task = load_task(f"voxceleb1={tmp_path}")
    f = task.folds[0]
    assert (f.train.tolist(), f.valid.tolist(), f.test.tolist()) == ([0, 1], [2, 3], [4, 5])
    assert task.class_names == ["id10001", "id10002"] and task.paths[0].endswith("wav/id10001/vidA/00001.wav")
    (tmp_path / "iden_split.txt").write_text("4 id10001/vidA/00001.wav\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_task(f"voxceleb1={tmp_path}")


def test_audioset_csv_is_multilabel_and_skips_missing_audio(tmp_path):
    header = "# Segments csv\n# YTID, start_seconds, end_seconds, positive_labels\n"
    train = [f'vid{i:08d}, 0.000, 10.000, "/m/dog{"," + "/m/bark" if i % 2 else ""}"' for i in range(20)]
    (tmp_path / "balanced_train_segments.csv").write_text(header + "\n".join(train) + "\n")
    (tmp_path / "eval_segments.csv").write_text(header + 'evl00000001, 0.0, 10.0, "/m/bark"\n'
                                                'evl00000002, 0.0, 10.0, "/m/cat,/m/dog"\n'
                                                'nofile00000, 0.0, 10.0, "/m/cat"\n')
    (tmp_path / "class_labels_indices.csv").write_text("index,mid,display_name\n0,/m/dog,Dog\n1,/m/bark,Bark\n2,/m/cat,Cat\n")
    for i in range(20):
        _touch(tmp_path / "audio" / f"vid{i:08d}_0.000.flac")
    _touch(tmp_path / "audio" / "Yevl00000001.wav")
    _touch(tmp_path / "audio" / "evl00000002.wav")
    task = load_task(f"audioset={tmp_path}")
    assert task.multilabel and task.primary_metric == "mAP"
    assert task.meta["missing"] == 1 and len(task.paths) == 22
    assert task.targets.shape == (22, 3) and task.targets.dtype == np.float32
    both = task.class_names.index("Cat"), task.class_names.index("Dog")
    assert task.targets[21, list(both)].tolist() == [1.0, 1.0]
    f = task.folds[0]
    assert f.test.tolist() == [20, 21] and len(f.valid) == 2


def test_manifest_with_groups_and_multilabels(tmp_path):
    rows = ["path,label,speaker"] + [f"a{i}.wav,{'x;y' if i % 3 == 0 else 'x'},s{i % 10}" for i in range(40)]
    (tmp_path / "m.csv").write_text("\n".join(rows))
    task = load_task(str(tmp_path / "m.csv"))
    assert task.multilabel and task.class_names == ["x", "y"] and task.group_kind == "speaker"
    assert len(task.folds) == 5
    for f in task.folds:  # generated folds keep each speaker whole
        assert not set(task.groups[f.train]) & set(task.groups[f.test])
    tested = np.concatenate([f.test for f in task.folds])
    assert sorted(tested.tolist()) == list(range(40))


def test_manifest_split_column_refuses_a_speaker_on_both_sides(tmp_path):
    rows = ["path,label,split,group"] + [f"a{i}.wav,{i % 2},{'test' if i < 4 else 'train'},g{i % 5}" for i in range(20)]
    (tmp_path / "m.csv").write_text("\n".join(rows))
    with pytest.raises(ConfigError, match="group 'g0' is in both"):
        load_task(f"manifest={tmp_path / 'm.csv'}")
    rows = ["path,label,split,group"] + [f"a{i}.wav,{i % 2},{'test' if i % 5 == 0 else 'train'},g{i % 5}" for i in range(40)]
    (tmp_path / "m.csv").write_text("\n".join(rows))
    task = load_task(f"manifest={tmp_path / 'm.csv'}")
    f = task.folds[0]  # no valid split given: whole groups of train become validation
    assert set(task.groups[f.test]) == {"g0"}
    assert not set(task.groups[f.valid]) & set(task.groups[f.train])


def test_manifest_fold_column_and_clear_errors(tmp_path):
    rows = ["path,label,fold"] + [f"a{i}.wav,c{i % 2},{i % 4 + 1}" for i in range(16)]
    (tmp_path / "m.csv").write_text("\n".join(rows))
    task = load_task(f"manifest={tmp_path / 'm.csv'}")
    assert not task.multilabel and len(task.folds) == 4
    (tmp_path / "bad.csv").write_text("path,label\na.wav,\n")
    with pytest.raises(ConfigError, match="line 2: empty label"):
        load_task(str(tmp_path / "bad.csv"))
    with pytest.raises(ConfigError, match="unknown"):
        load_task(f"nosuch={tmp_path}")
    with pytest.raises(ConfigError, match="does not exist"):
        load_task(f"esc50={tmp_path / 'missing'}")


def test_generated_folds_are_stratified():
    targets = np.repeat([0, 1], [50, 10])
    ids = make_fold_ids(targets, n_folds=5)
    for k in range(1, 6):
        assert (targets[ids == k] == 1).sum() == 2


def test_the_synthetic_worlds_held_out_scenes_are_two_tasks_over_one_embedding(tmp_path):
    from audiorep.builders import build_baseline
    from audiorep.eval.embedding_cache import EmbeddingCache
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.tasks import synthetic_tasks

    scene, events = synthetic_tasks(30, 20, seed=5, clip_seconds=1.0, progress=False)
    assert (scene.name, events.name, events.multilabel) == ("scene", "events", True)
    fold = scene.folds[0]
    assert sorted([*fold.train, *fold.valid]) == list(range(30)) and list(fold.test) == list(range(30, 50))
    cache = EmbeddingCache(None, progress=False)
    logmel = build_baseline("logmel")
    assert cache.key(logmel, scene) == cache.key(logmel, events)  # same clips, one embedding
    rows = evaluate({"logmel": logmel}, [scene, events], plots=False, progress=False, log=lambda _: None)
    assert {(r["task"], r["metric"]) for r in rows} >= {("scene", "accuracy"), ("events", "mAP")}


def test_a_synthetic_task_spec_takes_a_whole_number_seed():
    from audiorep.eval.tasks import load_tasks

    with pytest.raises(ConfigError, match="synthetic=SEED"):
        load_tasks("synthetic=first")
