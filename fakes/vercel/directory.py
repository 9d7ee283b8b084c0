"""The account's projects and deployments, and the ways the API finds them.

A project is addressed by id or name; a deployment by id, by its host
(``contacts-web-abc123.vercel.app``, with or without ``https://``) or by a project's
production domain (``contacts-web.vercel.app``). Lookups raise the vendor's NotFound or
BadRequest. Creation order is kept to break ties between deployments created in the
same instant.
"""

from __future__ import annotations

from fakes.vercel.errors import BadRequest, NotFound
from fakes.vercel.models import Deployment, Project


class Directory:
    """Projects and deployments by id, with the indexes their lookups need."""

    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.deployments: dict[str, Deployment] = {}
        self._project_names: dict[str, str] = {}
        self._urls: dict[str, str] = {}
        self._order: dict[str, int] = {}  # creation order, to break ties in time

    def name_taken(self, name: str, project_id: str) -> bool:
        return name in self._project_names or project_id in self.projects

    def add_project(self, project: Project) -> None:
        self.projects[project.id] = project
        self._project_names[project.name] = project.id

    def add_deployment(self, project: Project, dep: Deployment) -> None:
        self.deployments[dep.id] = dep
        self._order[dep.id] = len(self._order)
        self._urls[dep.url] = dep.id
        project.deployment_ids.append(dep.id)

    def newest_first(self, deployments: list[Deployment]) -> list[Deployment]:
        """``deployments`` sorted newest first (the later created first on a tie)."""
        return sorted(deployments, key=lambda d: (d.created, self._order[d.id]), reverse=True)

    def project(self, id_or_name: str) -> Project:
        """A project by id or name; raises NotFound."""
        pid = id_or_name if id_or_name in self.projects else self._project_names.get(id_or_name)
        if pid is None:
            raise NotFound(f"Project not found: {id_or_name}")
        return self.projects[pid]

    def deployment(self, id_or_url: str) -> Deployment:
        """A deployment by id, host or production domain; raises NotFound."""
        key = id_or_url.removeprefix("https://").removeprefix("http://").rstrip("/")
        dep_id = key if key in self.deployments else self._urls.get(key)
        if dep_id is None:
            dep_id = self._production_by_domain(key)
        if dep_id is None:
            raise NotFound(f"Deployment not found: {id_or_url}")
        return self.deployments[dep_id]

    def deployment_of(self, project: Project, deployment_id: str) -> Deployment:
        """A deployment of ``project``; raises NotFound, or BadRequest for another's."""
        dep = self.deployment(deployment_id)
        if dep.project_id != project.id:
            raise BadRequest(f"Deployment {dep.id} does not belong to project {project.name}")
        return dep

    def deploy_project(self, project_id: str | None, source: Deployment | None) -> Project:
        """The project a new deployment goes to: the one named, else the redeployed
        ``source``'s; raises NotFound or BadRequest (neither, or they disagree)."""
        if project_id:
            project = self.project(project_id)
        elif source is not None:
            project = self.projects[source.project_id]
        else:
            raise BadRequest("A deployment needs a project (name) or a deploymentId")
        if source is not None and source.project_id != project.id:
            raise BadRequest(f"Deployment {source.id} does not belong to project {project.name}")
        return project

    def _production_by_domain(self, host: str) -> str | None:
        name = host.removesuffix(".vercel.app")
        pid = self._project_names.get(name) if name != host else None
        return self.projects[pid].production_deployment_id if pid else None
