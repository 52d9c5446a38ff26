"""`inv frontend.*` through the task functions: commands run, data on stdout, errors as clean exits.

AWS is moto in-process (``mock_aws``); the environment is a copy of dev (no emulator endpoint).
"""

import json

import boto3
import pytest
from invoke import Exit, MockContext, Result
from moto import mock_aws

from tests.helpers import distribution_config
from tmkit import paths
from tmkit.tasks import frontend

BUCKET = "timemanagement-web-frontend-123456789012-us-east-1"


class Ctx(MockContext):
    """MockContext that also records the directory each command ran in."""

    def __init__(self, **kw):
        super().__init__(run=Result(), repeat=True, **kw)
        self.ran = []

    def run(self, command, **kw):
        self.ran.append((self.cwd, command))
        return super().run(command, **kw)


@pytest.fixture
def web(write_env, monkeypatch):
    name = write_env("web")
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        yield name


def deploy(name="web"):
    """What the stack provides to the publisher: the bucket, a distribution, the outputs."""
    cf = boto3.client("cloudfront", region_name="us-east-1")
    dist = cf.create_distribution(DistributionConfig=distribution_config(BUCKET))["Distribution"]["Id"]
    outputs = {"FrontendBucketName": {"Value": {"Ref": "Site"}}, "DistributionId": {"Value": dist}}
    for key, value in {
        "ApiUrl": "https://api.example.com/prod/",
        "Region": "us-east-1",
        "UserPoolId": "us-east-1_abc",
        "UserPoolClientId": "client123",
        "EnvironmentName": name,
        "SiteUrl": "https://d111.cloudfront.net",
    }.items():
        outputs[key] = {"Value": value}
    template = {
        "Resources": {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}},
        "Outputs": outputs,
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=f"TimeManagement-{name}", TemplateBody=json.dumps(template)
    )
    return dist


def spa(root, version="1"):
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "assets" / f"index-Ab{version}dEf12.js").write_text(f"console.log({version})")
    (root / "index.html").write_text(f'<script type="module" src="/assets/index-Ab{version}dEf12.js"></script>')
    return root


def keys():
    return sorted(
        o["Key"] for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    )


@pytest.fixture
def frontend_dir(tmp_path, monkeypatch):
    d = tmp_path / "frontend"
    d.mkdir()
    (d / "package.json").write_text("{}")
    monkeypatch.setattr(paths, "FRONTEND_DIR", d)
    return d


def test_build_writes_the_env_file_from_the_outputs_then_runs_the_build_in_frontend(web, frontend_dir):
    (frontend_dir / "node_modules").mkdir()
    deploy()
    c = Ctx()
    frontend.build(c, env=web)
    assert c.ran == [(str(frontend_dir), "npm run build")]
    env = (frontend_dir / ".env").read_text()
    assert "VITE_API_URL=https://api.example.com/prod/" in env and "VITE_USER_POOL_CLIENT_ID=client123" in env
    assert "VITE_ENVIRONMENT=web" in env


def test_build_without_node_modules_says_make_setup_and_runs_nothing(web, frontend_dir):
    deploy()
    c = Ctx()
    with pytest.raises(Exit, match="make setup"):
        frontend.build(c, env=web)
    assert c.ran == [] and not (frontend_dir / ".env").exists()


def test_build_when_the_stack_is_not_deployed_says_deploy_and_writes_nothing(web, frontend_dir):
    (frontend_dir / "node_modules").mkdir()
    c = Ctx()
    with pytest.raises(Exit, match=r"TimeManagement-web is not deployed: run `inv deploy --env web`"):
        frontend.build(c, env=web)
    assert c.ran == [] and not (frontend_dir / ".env").exists()


def test_publish_dry_run_prints_the_plan_on_stdout_and_uploads_nothing(web, tmp_path, capsys):
    deploy()
    build = spa(tmp_path / "dist")
    frontend.publish(Ctx(), env=web, dir=str(build), dry_run=True)
    out, err = capsys.readouterr()
    assert "upload  assets/index-Ab1dEf12.js" in out and "copy    _releases/blobs/" in out
    assert "invalidate  /index.html" in out and "dry run: nothing was changed" in err
    assert keys() == []


def test_publish_releases_rollback_through_the_tasks(web, tmp_path, capsys):
    dist = deploy()
    build = spa(tmp_path / "dist", "1")
    frontend.publish(Ctx(), env=web, dir=str(build))
    out, err = capsys.readouterr()
    assert out == "" and "is live: uploaded 2 files" in err and "invalidated / /index.html" in err
    build = spa(tmp_path / "dist2", "2")
    frontend.publish(Ctx(), env=web, dir=str(build), wait=True, timeout=5)
    frontend.publish(Ctx(), env=web, dir=str(build))
    assert "nothing changed, nothing invalidated" in capsys.readouterr().err

    frontend.releases(Ctx(), env=web)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("live") and not lines[1].endswith("live")
    second, first = lines[0].split()[0], lines[1].split()[0]

    frontend.rollback(Ctx(), env=web)
    assert f"release {first} is live again; invalidated / /index.html" in capsys.readouterr().err
    s3 = boto3.client("s3", region_name="us-east-1")
    assert b"index-Ab1dEf12.js" in s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    frontend.releases(Ctx(), env=web)
    assert capsys.readouterr().out.splitlines()[1].endswith("live")
    frontend.rollback(Ctx(), env=web, to=second)
    assert b"index-Ab2dEf12.js" in s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    cf = boto3.client("cloudfront", region_name="us-east-1")
    assert cf.list_invalidations(DistributionId=dist)["InvalidationList"]["Quantity"] == 4


def test_publish_errors_are_clean_exits(web, tmp_path):
    with pytest.raises(Exit, match=r"no build directory .*`inv frontend.build --env web`"):
        frontend.publish(Ctx(), env=web, dir=str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exit, match="is empty"):
        frontend.publish(Ctx(), env=web, dir=str(tmp_path / "empty"))
    (tmp_path / "noindex" / "assets").mkdir(parents=True)
    (tmp_path / "noindex" / "assets" / "a-AbCdEf12.js").write_text("1")
    with pytest.raises(Exit, match="has no index.html"):
        frontend.publish(Ctx(), env=web, dir=str(tmp_path / "noindex"))
    build = spa(tmp_path / "dist")
    with pytest.raises(Exit, match=r"not deployed: run `inv deploy --env web`"):
        frontend.publish(Ctx(), env=web, dir=str(build))
    with pytest.raises(Exit, match="--keep must be a whole number"):
        frontend.publish(Ctx(), env=web, dir=str(build), keep="three")
    # checked before the stack is read (it is not deployed here: that error would come otherwise)
    with pytest.raises(Exit, match="--workers must be a whole number"):
        frontend.publish(Ctx(), env=web, dir=str(build), workers="many")
    for bad in ("0", "129"):
        with pytest.raises(Exit, match=r"--workers must be between 1 and 128 uploads in flight \(got"):
            frontend.publish(Ctx(), env=web, dir=str(build), workers=bad)


def test_invalidate_prints_the_id_and_checks_paths(web, capsys):
    dist = deploy()
    frontend.invalidate(Ctx(), env=web)
    inv_id = capsys.readouterr().out.strip()
    cf = boto3.client("cloudfront", region_name="us-east-1")
    batch = cf.get_invalidation(DistributionId=dist, Id=inv_id)["Invalidation"]["InvalidationBatch"]
    assert batch["Paths"]["Items"] == ["/*"]
    frontend.invalidate(Ctx(), env=web, paths=["/index.html,/"], wait=True, timeout=5)
    inv_id = capsys.readouterr().out.strip()
    assert cf.get_invalidation(DistributionId=dist, Id=inv_id)["Invalidation"]["InvalidationBatch"]["Paths"][
        "Items"
    ] == ["/index.html", "/"]
    with pytest.raises(Exit, match="must start with '/'"):
        frontend.invalidate(Ctx(), env=web, paths=["index.html"])


def test_rollback_with_nothing_published_says_publish_first(web):
    deploy()
    with pytest.raises(Exit, match="no release has been published"):
        frontend.rollback(Ctx(), env=web)


def test_invalidate_over_3000_paths_collapses_to_a_wildcard_and_says_so(web, capsys):
    dist = deploy()
    frontend.invalidate(Ctx(), env=web, paths=[",".join(f"/p{i}.html" for i in range(3001))])
    out, err = capsys.readouterr()
    cf = boto3.client("cloudfront", region_name="us-east-1")
    batch = cf.get_invalidation(DistributionId=dist, Id=out.strip())["Invalidation"]["InvalidationBatch"]
    assert batch["Paths"]["Items"] == ["/*"]
    assert "3001 paths exceed CloudFront's limit of 3000 per invalidation: invalidating /* instead" in err


def test_publish_skips_dotfiles_refuses_broken_html_and_checks_its_flags(web, tmp_path, capsys):
    deploy()
    build = spa(tmp_path / "dist")
    (build / ".env").write_text("SECRET=1")
    frontend.publish(Ctx(), env=web, dir=str(build))
    assert "skipped 1 dotfiles" in capsys.readouterr().err and ".env" not in keys()
    frontend.publish(Ctx(), env=web, dir=str(build), include_dotfiles=True)
    assert ".env" in keys()
    (build / "index.html").write_text('<script type="module" src="/assets/gone-Ab1dEf12.js"></script>')
    with pytest.raises(Exit, match=r"index.html: /assets/gone-Ab1dEf12.js\nNothing was uploaded.*--force"):
        frontend.publish(Ctx(), env=web, dir=str(build))
    frontend.publish(Ctx(), env=web, dir=str(build), force=True)
    assert "--force: publishing index.html although it loads" in capsys.readouterr().err
    with pytest.raises(Exit, match="--wait-lock 'soon' is not a number"):
        frontend.publish(Ctx(), env=web, dir=str(build), wait_lock="soon")
    with pytest.raises(Exit, match="--wait-lock '-1' must be 0 or more"):
        frontend.rollback(Ctx(), env=web, wait_lock="-1")
