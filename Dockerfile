# One image for the API, the worker and migrations; the command picks the role.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN python -m pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN python -m pip install --no-cache-dir --no-deps . && useradd --system nopic && mkdir -p /app/var \
    && chown nopic /app/var
USER nopic
EXPOSE 8000
CMD ["nopic", "api"]
