from tests.generations.conftest import eager, fake_engine, images, uploaded_image_id  # noqa: F401 - shared fixtures
