"""The built-in synthetic sound world: procedural labelled scenes with full ground truth
(isolated sources, event classes, scene type, pitch), so the whole system runs and can be
measured on a fresh machine with no downloads. See docs/synthetic_world.md."""

from audiorep.data.synthetic.generate import SyntheticClips, generate_clips
from audiorep.data.synthetic.scene_types import SCENE_TYPES, Background, SceneType
from audiorep.data.synthetic.sound_classes import SOUND_CLASSES, SoundClass
from audiorep.data.synthetic.world import SceneBatch, SyntheticWorld
from audiorep.data.synthetic.writer import write_world

__all__ = [
    "SCENE_TYPES",
    "SOUND_CLASSES",
    "Background",
    "SceneBatch",
    "SceneType",
    "SoundClass",
    "SyntheticClips",
    "SyntheticWorld",
    "generate_clips",
    "write_world",
]
