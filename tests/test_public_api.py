"""The package's public names, its one reporter, and the task table's contract with the core."""

import dataclasses
import threading

import keras
import pandas as pd
import pytest

import minibert
from minibert.reporting import report, reporting_to
from minibert.tasks import TASK_NAMES
from minibert.tasks.table import TASKS
from minibert.tasks.task import FinetuningTask


def test_every_public_name_resolves_to_what_its_module_defines():
    for name in minibert.__all__:
        assert getattr(minibert, name) is not None, name
    assert minibert.Backbone is minibert.models.Backbone
    assert minibert.TASKS is TASKS
    assert set(minibert.__all__) <= set(dir(minibert))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        minibert.Nothing  # noqa: B018


def test_import_minibert_registers_every_task_model_under_its_saved_name():
    registered = keras.saving.get_custom_objects()
    for task in TASKS.values():
        for name in (*task.head_classes, *task.end_to_end_classes):
            assert f"minibert>{name}" in registered, name


def test_reported_lines_go_to_the_blocks_reporter_and_back_to_print_after(capsys):
    lines, inner = [], []
    with reporting_to(lines.append):
        report("outer")
        with reporting_to(inner.append):
            report("inner")
        report("outer again")
    report("printed")
    assert lines == ["outer", "outer again"] and inner == ["inner"]
    assert capsys.readouterr().out == "printed\n"


def test_a_thread_started_inside_a_block_reports_to_print(capsys):
    lines = []
    with reporting_to(lines.append):
        # A new thread starts from the default reporter, not the block's.
        thread = threading.Thread(target=report, args=("from the thread",))
        thread.start()
        thread.join()
        report("from the block")
    assert lines == ["from the block"]
    assert capsys.readouterr().out == "from the thread\n"


def test_every_task_gives_every_field_and_is_listed_under_its_own_name():
    assert tuple(TASKS) == TASK_NAMES
    for name, task in TASKS.items():
        assert task.name == name
        for field in dataclasses.fields(FinetuningTask):
            if field.type == "Callable" or getattr(field.type, "__name__", "") == "Callable":
                assert callable(getattr(task, field.name)), (name, field.name)
        assert task.end_to_end_classes and task.head_classes


def test_each_task_recognises_only_its_own_sources(tmp_path):
    squad = tmp_path / "train.json"
    squad.write_text('{"data": [{"title": "t", "paragraphs": []}], "version": "1.1"}')
    conll = tmp_path / "wnut.conll"
    conll.write_text("Ada\tB-person\n")
    table = tmp_path / "reviews.csv"
    pd.DataFrame({"text": ["good"], "label": [1]}).to_csv(table, index=False)
    readers = {name: [str(path) for path in (squad, conll, table) if task.reads_source(str(path))]
               for name, task in TASKS.items()}
    assert readers == {"classification": [], "token-classification": [str(conll)],
                       "question-answering": [str(squad)]}
