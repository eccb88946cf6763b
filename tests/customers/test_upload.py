import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from customers.models import CustomerImage
from tests.images import jpeg_bytes, png_bytes
from tests.storage_fixtures import all_storage_keys
from tryon_project.storage import blob_read

UPLOAD = "/tryon/v1/images/upload"


def _file(data: bytes, name: str = "photo.jpg"):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def test_upload_returns_id_signed_url_and_expiry(api, account, any_storage):
    frozen = timezone.now().replace(microsecond=123000)
    with time_machine.travel(frozen, tick=False):
        response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "crop": "false"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"imageId", "imageUrl", "expiresAt"}
    assert body["imageId"].startswith("img_") and len(body["imageId"]) >= 4 + 22
    image = CustomerImage.objects.get(id=body["imageId"])
    assert image.account == account
    assert image.retention_days == 7
    assert body["expiresAt"] == (frozen + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.123Z")
    assert (image.width, image.height) == (400, 500)
    assert all_storage_keys() == [image.storage_key]
    assert blob_read(key=image.storage_key)[:2] == b"\xff\xd8"


@pytest.mark.parametrize("field", ["retentionDays", "keepForDays"])
@pytest.mark.parametrize("value", ["1", "3", "7"])
def test_retention_values(api, field, value):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "crop": "false", field: value})
    assert response.status_code == 201
    assert CustomerImage.objects.get(id=response.json()["imageId"]).retention_days == int(value)


@pytest.mark.parametrize("value", ["2", "0", "30", "abc", "-1", "7.0"])
def test_bad_retention_is_validation_failed(api, value):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "retentionDays": value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["details"] == [{"path": "retentionDays", "message": "must be one of 1, 3, 7"}]
    assert CustomerImage.objects.count() == 0
    assert all_storage_keys() == []


def test_account_default_retention(api, account):
    account.customer_retention_days = 3
    account.save()
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "crop": "false"})
    assert CustomerImage.objects.get(id=response.json()["imageId"]).retention_days == 3


@pytest.mark.parametrize("field", ["customerId", "externalUserId"])
def test_customer_id_linked(api, field):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "crop": "false", field: "user-42"})
    assert CustomerImage.objects.get(id=response.json()["imageId"]).customer_id == "user-42"


def test_file_required(api):
    response = api.post(UPLOAD, {"crop": "false"})
    assert response.status_code == 400
    assert response.json()["code"] == "FILE_REQUIRED"
    assert CustomerImage.objects.count() == 0


def test_json_body_is_unsupported_media_type(api):
    response = api.post_json(UPLOAD, {"file": "x"})
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_invalid_image(api):
    response = api.post(UPLOAD, {"file": _file(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.jpg")})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IMAGE"
    assert all_storage_keys() == []


def test_too_small_image(api):
    response = api.post(UPLOAD, {"file": _file(png_bytes(width=40, height=400))})
    assert response.json()["code"] == "INVALID_IMAGE"


def test_file_over_limit_is_413(api, settings):
    settings.TRYON_MAX_FILE_BYTES = 5000
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes(width=900, height=900) + b"\0" * 6000)})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_bad_crop_value(api):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), "crop": "maybe"})
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": "crop", "message": "must be true or false"}]


def test_crop_true_gives_4_to_5(api):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes(width=1000, height=600))})
    assert response.status_code == 201
    image = CustomerImage.objects.get(id=response.json()["imageId"])
    assert abs(image.width / image.height - 0.8) < 0.01
    with Image.open(io.BytesIO(blob_read(key=image.storage_key))) as stored:
        assert stored.size == (image.width, image.height)


def test_metadata_stripped_and_rotated(api):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display
    exif[0x010F] = "SecretCam"
    response = api.post(
        UPLOAD, {"file": _file(jpeg_bytes(width=400, height=300, exif=exif.tobytes())), "crop": "false"}
    )
    image = CustomerImage.objects.get(id=response.json()["imageId"])
    assert (image.width, image.height) == (300, 400)
    stored = blob_read(key=image.storage_key)
    assert b"SecretCam" not in stored and b"Exif" not in stored


def test_file_required_wins_over_every_field_error_and_names_the_part(api):
    response = api.post(UPLOAD, {"crop": "maybe", "customerId": "/bad", "retentionDays": "5"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "FILE_REQUIRED",
        "message": "A 'file' part is required.",
        "status": 400,
        "details": [{"path": "file", "message": "is required"}],
    }
    assert CustomerImage.objects.count() == 0
    assert all_storage_keys() == []


def test_a_text_field_named_file_is_not_the_photo(api):
    response = api.post(UPLOAD, {"file": "photo.jpg", "crop": "false"})
    assert response.status_code == 400
    assert response.json()["code"] == "FILE_REQUIRED"
    assert CustomerImage.objects.count() == 0


def test_an_empty_file_part_is_an_invalid_image_not_a_field_error(api):
    response = api.post(UPLOAD, {"file": _file(b""), "crop": "false"})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IMAGE"
    assert "details" not in response.json()
    assert CustomerImage.objects.count() == 0
    assert all_storage_keys() == []


def test_field_errors_come_before_the_size_limit(api, settings):
    # The declared size is judged once the fields are valid, as before the form had a schema.
    settings.TRYON_MAX_FILE_BYTES = 5000
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes(width=900, height=900) + b"\0" * 6000), "crop": "maybe"})
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": "crop", "message": "must be true or false"}]
    assert all_storage_keys() == []


@pytest.mark.parametrize(
    ("form", "customer_id", "retention_days"),
    [
        # A form sending both names of a field keeps the older one and ignores the other, even an invalid one.
        ({"customerId": "user-1", "externalUserId": "x" * 256}, "user-1", 7),
        ({"retentionDays": "1", "keepForDays": "5"}, "", 1),
        ({"externalUserId": "user-2", "keepForDays": "3"}, "user-2", 3),
        ({"customerId": "user-3", "crop": ""}, "user-3", 7),
    ],
)
def test_every_accepted_form_shape_is_read_as_before(api, form, customer_id, retention_days):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes(width=1000, height=600)), **form})
    assert response.status_code == 201, response.content
    image = CustomerImage.objects.get(id=response.json()["imageId"])
    assert (image.customer_id, image.retention_days) == (customer_id, retention_days)
    # No `crop`, or an empty one, is the default: cropped to 4:5.
    assert abs(image.width / image.height - 0.8) < 0.01


@pytest.mark.parametrize(
    ("form", "path", "message"),
    [
        ({"externalUserId": ""}, "externalUserId", "must be a string of 1-255 characters"),
        ({"externalUserId": "a//b"}, "externalUserId", "must not start or end with '/' or contain '//'"),
        ({"customerId": " "}, "customerId", "must be a string of 1-255 characters"),
        ({"keepForDays": "7.0"}, "keepForDays", "must be one of 1, 3, 7"),
        ({"crop": "2"}, "crop", "must be true or false"),
    ],
)
def test_a_refused_field_is_reported_under_the_name_it_was_sent(api, form, path, message):
    response = api.post(UPLOAD, {"file": _file(jpeg_bytes()), **form})
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": path, "message": message}]
    assert CustomerImage.objects.count() == 0
