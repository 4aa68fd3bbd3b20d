import pytest

from augment_signals import speech_like_batch


@pytest.fixture
def speech_like():
    return speech_like_batch()
