import json

from django.core.management import call_command

from tryon_project.api.errors import ErrorCode


def test_schema_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.stat().st_size > 1000


def test_openapi_json_served_without_key(anon, db):
    response = anon.get("/tryon/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in {"application/json", "application/vnd.oai.openapi+json"}
    schema = json.loads(response.content)
    assert "/tryon/v1/account/credits" in schema["paths"]
    error = schema["components"]["schemas"]["Error"]
    code = error["properties"]["code"]
    if "$ref" in code:
        code = schema["components"]["schemas"][code["$ref"].rsplit("/", 1)[1]]
    assert set(code["enum"]) == {c.name for c in ErrorCode}
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }


def test_docs_ui_served_locally(anon, db):
    response = anon.get("/tryon/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_healthz(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz(anon, db, settings):
    response = anon.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["storage"] == "ok"
    if settings.REDIS_URL:
        assert checks["redis"] == "ok"


def test_readyz_reports_redis_down(anon, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = anon.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "down"
