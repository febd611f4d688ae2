from persistence.repositories.certificates import CertificateRepository
from persistence.repositories.customs import CustomsRepository
from persistence.repositories.documents import DocumentRepository
from persistence.repositories.login_failures import LoginFailureRepository
from persistence.repositories.numbers import NumberRepository
from persistence.repositories.pagination import Page
from persistence.repositories.projection import ProjectionRepository
from persistence.repositories.registry import RegistryRepository
from persistence.repositories.requests import RequestRepository
from persistence.repositories.tasks import TaskRepository
from persistence.repositories.users import UserRepository
from persistence.repositories.web_sessions import WebSessionRepository

__all__ = [
    "CertificateRepository",
    "CustomsRepository",
    "DocumentRepository",
    "LoginFailureRepository",
    "NumberRepository",
    "Page",
    "ProjectionRepository",
    "RegistryRepository",
    "RequestRepository",
    "TaskRepository",
    "UserRepository",
    "WebSessionRepository",
]
