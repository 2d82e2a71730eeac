"""The web face: FastAPI, server-rendered pages each with a JSON twin (`.json`)."""
