"""The hotline CLI: db upgrade, users add, units import, serve (as real subprocesses where it matters)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli import main
from tests.datadir import init_data_dir

UNITS_CSV = ("code,name,kind,parent_code,contact_name,contact_phone,contact_email,notify_channels\n"
             "city-a,市甲局,department,,王一,13900000001,a@example.cn,sms;email\n"
             "d-a,甲区政府,district,,,,,\n"
             "s-a,甲区一街道,street,d-a,,,,sms\n")


def run(args, data_dir):
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    return result


def test_db_upgrade_users_and_units(tmp_path):
    data = tmp_path / "d"
    assert run(["db", "upgrade"], data).exit_code == 0
    assert (data / "hotline.db").exists()
    csv_file = tmp_path / "units.csv"
    csv_file.write_text(UNITS_CSV, encoding="utf-8")
    result = run(["units", "import", str(csv_file)], data)
    assert result.exit_code == 0 and "新增 3 个" in result.output
    result = run(["units", "import", str(csv_file)], data)
    assert "更新 3 个" in result.output
    result = run(["users", "add", "li", "--role", "unit", "--unit", "s-a", "--print-token"], data)
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 40
    result = run(["users", "add", "li", "--role", "agent"], data)
    assert result.exit_code == 2 and "已存在" in result.output
    result = run(["users", "add", "wang", "--role", "unit"], data)
    assert result.exit_code == 2 and "--unit" in result.output
    result = run(["users", "add", "wang", "--role", "unit", "--unit", "nowhere"], data)
    assert result.exit_code == 2 and "nowhere" in result.output


def test_units_import_rejects_bad_files_and_writes_nothing(tmp_path):
    data = init_data_dir(tmp_path / "d")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,kind,parent_code\nx,某局,ministry,\n", encoding="utf-8")
    result = run(["units", "import", str(bad)], data)
    assert result.exit_code == 2 and "第 2 行" in result.output and "ministry" in result.output
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("code,name,kind,parent_code\nx,某局,department,\n".encode("gbk"))
    result = run(["units", "import", str(gbk)], data)
    assert result.exit_code == 2 and "UTF-8" in result.output
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("code,name,kind,parent_code\nok,某局,department,\ns,某街道,street,ghost\n", encoding="utf-8")
    result = run(["units", "import", str(orphan)], data)
    assert result.exit_code == 2 and "ghost" in result.output
    good = tmp_path / "good.csv"
    good.write_text("code,name,kind,parent_code\nonly,唯一局,department,\n", encoding="utf-8")
    assert "新增 1 个" in run(["units", "import", str(good)], data).output  # nothing was left by failures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_fresh_data_dir_answers_healthz_and_seeds_the_demo(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "serve", "--data-dir", str(tmp_path / "d"),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    try:
        body = None
        for _ in range(900):  # a loaded CI machine: the first start migrates, seeds and indexes the demo
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stdout.read())
                time.sleep(0.1)
        assert body == '{"status": "ok"}'
        # the demo knowledge base answers the very first question: it was indexed before the service took
        # requests, not by the index job's first pass seconds later (until then: "暂时没有找到相关答案")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/chatbot/messages", headers={
            "Content-Type": "application/json"}, data=json.dumps({"user_id": "first", "text": "灵活就业人员怎么缴纳养老保险"}).encode())
        with urllib.request.urlopen(req, timeout=10) as resp:
            reply = json.loads(resp.read())
        assert reply["kind"] == "answer" and "养老保险" in reply["text"], reply
        logins = (tmp_path / "d" / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
        assert {line.split("\t")[0] for line in logins} == {"admin", "agent", "dispatcher", "unit", "leader"}
        token = logins[0].split("\t")[3]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/units",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert len(json.loads(resp.read())["items"]) >= 30
        # the server takes request lines long enough for a whole assist text (hotline.app.SERVER_ARGS)
        story = urllib.parse.quote("我家燃气表旁边有异味" * 400)  # 4,000 characters, 36 KB of URL
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/assist?text={story}",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200 and "articles" in json.loads(resp.read())
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "演示账号" in output and "admin" in output


@pytest.mark.parametrize(("env", "expected"), [
    ({"HOTLINE_PORT": "abc"}, "HOTLINE_PORT：必须是整数"),
    ({"HOTLINE_DATABASE_URL": "mysql://root@127.0.0.1/hotline"}, "HOTLINE_DATABASE_URL：只支持 PostgreSQL"),
    ({"HOTLINE_DEADLINES": '{"sign_hour": 1}'}, "未知的时限设置项：sign_hour"),
    ({"HOTLINE_DEADLINES": '{"reply_days": {"咨询": "明天"}}'}, "必须是数字"),
    ({"HOTLINE_TIMEZONE": "Mars/Olympus"}, "未知时区 Mars/Olympus"),
])
def test_bad_configuration_is_one_chinese_line_and_exit_2(tmp_path, env, expected):
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 2, result.output
    assert "配置有误" in result.output and expected in result.output
    assert isinstance(result.exception, SystemExit)  # fail(), not an exception escaping


def test_unreachable_database_is_a_message_not_a_traceback(tmp_path):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"HOTLINE_DATABASE_URL": f"postgresql://hotline@127.0.0.1:{port}/hotline"}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 2 and "无法连接数据库" in result.output
    assert isinstance(result.exception, SystemExit)


def test_help_is_chinese():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "监听地址" in result.output and "内置存储目录" in result.output
    # click's own words too: usage, headings, the help option
    assert result.output.startswith("用法：") and "选项" in result.output and "显示本帮助并退出。" in result.output
    assert "Usage" not in result.output and "Show this message" not in result.output


@pytest.mark.parametrize(("args", "expected"), [
    (["nosuch"], "错误：没有命令 'nosuch'。"),
    (["routing", "tran"], "（是否想用：'retrain', 'train'？）"),
    (["kb", "search"], "错误：缺少参数 'QUERY'"),
    (["routing", "audit", "--since"], "错误：选项 '--since' 需要取值。"),
    (["kb", "search", "公积金", "--limit", "0"], "'--limit' 的值无效：0 不在范围"),
    (["kb", "search", "公积金", "多余"], "错误：多余的参数（多余）"),
    (["routing", "train", "--data", "x.csv", "--text-col", "a"], "错误：缺少选项 '--label-col'"),
])
def test_command_line_mistakes_are_told_in_chinese(args, expected):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and expected in result.output, result.output
    assert "Error" not in result.output and "Try '" not in result.output and "Usage" not in result.output


@pytest.mark.parametrize("argv", [["-m", "hotline.cli", "--help"],
                                  # a command module imported before the root group (it imports hotline.cli)
                                  ["-c", "import routing.cli; from hotline.cli import main; main()", "--help"]])
def test_cli_module_runs_without_an_import_cycle(argv):
    root = Path(__file__).parents[2]
    result = subprocess.run([sys.executable, *argv], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert all(name in result.stdout for name in ("db", "serve", "routing", "kb", "jobs", "worker"))


@pytest.mark.parametrize("args", [["kb", "search", "公积金"], ["kb", "export", "OUT"], ["routing", "rules", "export"],
                                  ["users", "add", "wang", "--role", "agent"], ["jobs", "list"]])
def test_a_data_dir_without_a_database_is_an_error_not_a_new_empty_one(tmp_path, args):
    # a mistyped --data-dir: said so, and nothing is created there (an export would read "nothing", an
    # import would fill a database no service uses)
    typo = tmp_path / "dta"
    result = CliRunner().invoke(main, [*[str(tmp_path / "out.csv") if a == "OUT" else a for a in args],
                                       "--data-dir", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"数据目录 {typo} 中没有数据库" in result.output and "hotline db upgrade" in result.output
    assert not (typo / "hotline.db").exists()
