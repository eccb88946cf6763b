from tests.generations.conftest import images, uploaded_image_id  # noqa: F401 - shared fixtures
