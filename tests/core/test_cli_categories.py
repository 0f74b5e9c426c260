"""``hotline categories import FILE.csv``: the category taxonomy from CSV, as ``units import`` does units."""

import sqlite3

from click.testing import CliRunner

from hotline.cli import main
from hotline.demo import demo_file
from tests.datadir import init_data_dir

TAXONOMY = ("code,name,parent_code\n"
            "C9,市容环境,\n"
            "C901,环境卫生,C9\n"
            "C90101,垃圾清运,C901\n"
            "C90102,公厕管理,C901\n")


def run(args, data_dir):
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


def stored(data_dir) -> dict[str, tuple]:
    """code -> (name, parent code, level)."""
    with sqlite3.connect(data_dir / "hotline.db") as db:
        rows = db.execute("SELECT c.code, c.name, p.code, c.level FROM categories c "
                          "LEFT JOIN categories p ON p.id = c.parent_id").fetchall()
    return {code: (name, parent, level) for code, name, parent, level in rows}


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_imports_a_taxonomy_then_updates_it_by_code(tmp_path):
    data = init_data_dir(tmp_path / "d")
    result = run(["categories", "import", str(write(tmp_path, "c.csv", TAXONOMY))], data)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "导入完成：新增 4 个，更新 0 个分类"
    assert stored(data) == {"C9": ("市容环境", None, 1), "C901": ("环境卫生", "C9", 2),
                            "C90101": ("垃圾清运", "C901", 3), "C90102": ("公厕管理", "C901", 3)}
    # again, renamed, one more, and a child listed before its parent: updated by code, nothing doubled
    again = ("code,name,parent_code\nC90103,道路清扫,C901\n" + TAXONOMY.split("\n", 1)[1]).replace("公厕管理", "公厕")
    result = run(["categories", "import", str(write(tmp_path, "c2.csv", again))], data)
    assert result.exit_code == 0 and "新增 1 个，更新 4 个分类" in result.output
    assert stored(data)["C90102"] == ("公厕", "C901", 3) and stored(data)["C90103"] == ("道路清扫", "C901", 3)
    assert len(stored(data)) == 5


def test_imports_the_demo_taxonomy_file(tmp_path):
    data = init_data_dir(tmp_path / "d")
    demo = write(tmp_path, "categories.csv", demo_file("categories.csv"))
    result = run(["categories", "import", str(demo)], data)
    assert result.exit_code == 0, result.output
    cats = stored(data)
    assert len(cats) == len(demo_file("categories.csv").strip().splitlines()) - 1
    assert cats["C01"] == ("城乡建设", None, 1) and cats["C010101"] == ("公租房与保障房", "C0101", 3)


def test_moving_a_category_relevels_the_stored_ones_under_it(tmp_path):
    data = init_data_dir(tmp_path / "d")
    assert run(["categories", "import", str(write(tmp_path, "c.csv", TAXONOMY))], data).exit_code == 0
    moved = write(tmp_path, "m.csv", "code,name,parent_code\nC8,城市管理,\nC9,市容环境,C8\n")
    assert run(["categories", "import", str(moved)], data).exit_code == 0
    cats = stored(data)
    assert cats["C9"] == ("市容环境", "C8", 2) and cats["C901"][2] == 3 and cats["C90101"][2] == 4


def test_bad_files_fail_with_a_reason_and_write_nothing(tmp_path):
    data = init_data_dir(tmp_path / "d")
    cases = {
        "columns.csv": ("code,title,parent\nC1,甲,\n", "缺少列：name, parent_code"),
        "empty_name.csv": ("code,name,parent_code\nC1,甲,\nC2,,\n", "第 3 行：code 和 name 不能为空"),
        "duplicate.csv": ("code,name,parent_code\nC1,甲,\nC101,乙,C1\nC1,丙,\n", "第 4 行：分类编码 C1 重复"),
        "orphan.csv": ("code,name,parent_code\nC1,甲,\nC101,乙,C7\n", "分类 C101 的上级分类 C7 不存在"),
        "self.csv": ("code,name,parent_code\nC1,甲,C1\n", "第 2 行：分类 C1 不能以自己为上级"),
        "cycle.csv": ("code,name,parent_code\nC1,甲,C2\nC2,乙,C1\n", "分类 C1 的上级关系形成循环"),
        "long.csv": (f"code,name,parent_code\n{'C' * 51},甲,\n", "第 2 行：分类编码最多 50 个字符"),
    }
    for name, (text, reason) in cases.items():
        result = run(["categories", "import", str(write(tmp_path, name, text))], data)
        assert result.exit_code == 2 and f"错误：{reason}" in result.output, (name, result.output)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("code,name,parent_code\nC1,甲,\n".encode("gbk"))
    result = run(["categories", "import", str(gbk)], data)
    assert result.exit_code == 2 and "UTF-8" in result.output
    assert stored(data) == {}  # nothing was left by the failures
    result = run(["categories", "import", str(tmp_path / "nowhere.csv")], data)
    assert result.exit_code == 2 and "nowhere.csv" in result.output


def test_a_parent_already_stored_may_be_named(tmp_path):
    data = init_data_dir(tmp_path / "d")
    assert run(["categories", "import", str(write(tmp_path, "c.csv", TAXONOMY))], data).exit_code == 0
    more = write(tmp_path, "more.csv", "code,name,parent_code\nC90104,餐厨垃圾,C901\n")
    result = run(["categories", "import", str(more)], data)
    assert result.exit_code == 0 and "新增 1 个，更新 0 个分类" in result.output
    assert stored(data)["C90104"] == ("餐厨垃圾", "C901", 3)


def test_a_data_dir_without_a_database_is_refused(tmp_path):
    result = run(["categories", "import", str(write(tmp_path, "c.csv", TAXONOMY))], tmp_path / "typo")
    assert result.exit_code == 2 and "没有数据库" in result.output
    assert not (tmp_path / "typo" / "hotline.db").exists()
