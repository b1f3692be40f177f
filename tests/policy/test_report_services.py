"""The evidence report's per-service section, from a hand-made set of outcomes (no plan, no pack)."""
from __future__ import annotations

from pathlib import Path

from policy_fixtures import PACK_DIR
from rampart.offline.analyzer import Analysis, AnalysisResource, Outcome, PolicyMeta
from rampart.offline.result import CheckResult
from rampart.offline.report import build_report, render_html, render_json, render_md, service_sections, verify_report

REPO = Path(__file__).resolve().parents[2]
STACK = "urn:pulumi:dev::rampart::pulumi:pulumi:Stack::rampart-dev"
ENV = "urn:pulumi:dev::rampart::rampart:environment:Environment::env"
API = "urn:pulumi:dev::rampart::rampart:web_service:WebService::api"
WEB = "urn:pulumi:dev::rampart::rampart:web_service:WebService::web"
IDLE = "urn:pulumi:dev::rampart::rampart:web_service:WebService::idle"
SIDECAR = "urn:pulumi:dev::rampart::rampart:web_service:WebService$rampart:sidecar:ProxySidecar::api-proxy"
API_TASK = "urn:pulumi:dev::rampart::rampart:web_service:WebService$aws:ecs/taskDefinition:TaskDefinition::api-task"
API_SECRET = ("urn:pulumi:dev::rampart::rampart:web_service:WebService$rampart:sidecar:ProxySidecar$"
              "aws:secretsmanager/secret:Secret::api-tls")
WEB_SVC = "urn:pulumi:dev::rampart::rampart:web_service:WebService$aws:ecs/service:Service::web-svc"
ALB = "urn:pulumi:dev::rampart::rampart:environment:Environment$aws:lb/loadBalancer:LoadBalancer::alb"

TREE: dict[str, tuple[str, str | None]] = {
    STACK: ("pulumi:pulumi:Stack", None),
    ENV: ("rampart:environment:Environment", STACK),
    API: ("rampart:web_service:WebService", STACK),
    WEB: ("rampart:web_service:WebService", STACK),
    IDLE: ("rampart:web_service:WebService", STACK),
    SIDECAR: ("rampart:sidecar:ProxySidecar", API),
    API_TASK: ("aws:ecs/taskDefinition:TaskDefinition", API),
    API_SECRET: ("aws:secretsmanager/secret:Secret", SIDECAR),
    WEB_SVC: ("aws:ecs/service:Service", WEB),
    ALB: ("aws:lb/loadBalancer:LoadBalancer", ENV),
}
OUTCOMES = [
    Outcome("p-task", API_TASK, "compliant"),
    Outcome("p-task", API_TASK, "not-applicable"),
    Outcome("p-secret", API_SECRET, "violation", "secret uses the <default> key", "mandatory"),
    Outcome("p-task", WEB_SVC, "unknown", "networkConfiguration (not known during preview)"),
    Outcome("p-service", WEB_SVC, "compliant"),
    Outcome("p-lb", ALB, "compliant"),
    Outcome("p-stack", "", "violation", "stack-wide", "mandatory"),
    Outcome("p-secret", "urn:pulumi:dev::rampart::aws:kms/key:Key::not-in-the-tree", "violation", "x", "mandatory"),
]


def test_each_service_lists_the_policies_that_judged_its_descendants() -> None:
    got = service_sections(OUTCOMES, TREE)
    assert got == [
        {"urn": API, "name": "api", "resources": 3, "outcome": "violation", "policies": [
            {"policy": "p-secret", "outcome": "violation", "resourcesJudged": 1,
             "findings": [{"urn": API_SECRET, "outcome": "violation", "message": "secret uses the <default> key"}]},
            {"policy": "p-task", "outcome": "compliant", "resourcesJudged": 1, "findings": []}]},
        {"urn": IDLE, "name": "idle", "resources": 0, "outcome": "not-applicable", "policies": []},
        {"urn": WEB, "name": "web", "resources": 1, "outcome": "unknown", "policies": [
            {"policy": "p-service", "outcome": "compliant", "resourcesJudged": 1, "findings": []},
            {"policy": "p-task", "outcome": "unknown", "resourcesJudged": 1,
             "findings": [{"urn": WEB_SVC, "outcome": "unknown",
                           "message": "networkConfiguration (not known during preview)"}]}]},
    ]


def test_no_tree_no_services() -> None:
    assert service_sections(OUTCOMES, {}) == []


def _result() -> CheckResult:
    meta = {pid: PolicyMeta(pid, f"{pid} holds.", "mandatory", "high", "resource", ("CC6.1",), (), "fix it",
                            "https://example.com", "SOC 2") for pid in ("p-task", "p-secret", "p-service", "p-lb", "p-stack")}
    analysis = Analysis("rampart-soc2", "0.1.0", meta, {pid: "mandatory" for pid in meta}, OUTCOMES, [])
    resources = [AnalysisResource(urn=u, type=t, name=u.rsplit("::", 1)[-1], properties={}, parent=p)
                 for u, (t, p) in TREE.items() if not t.startswith(("rampart:", "pulumi:"))]
    return CheckResult("dev", "rampart", REPO, PACK_DIR, analysis, resources, {}, 0.0, 0.0, tree=dict(TREE))


def test_report_files_show_the_services_and_stay_sealed(tmp_path: Path) -> None:
    report = build_report(_result())
    assert [s["name"] for s in report["services"]] == ["api", "idle", "web"]
    md, html, js = render_md(report), render_html(report), render_json(report)
    assert "### Service `api` (violation)" in md and "### Service `web` (unknown)" in md
    assert "violation: `api-tls` secret uses the <default> key" in md
    assert "service <code>web</code>" in html and "secret uses the &lt;default&gt; key" in html
    assert "<default>" not in html
    for name, text in (("r.md", md), ("r.html", html), ("r.json", js)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert verify_report(tmp_path / name), name


def test_a_services_images_are_in_its_section() -> None:
    """Rampart's program builds a service's images as `Image` components `<service>-app` / `-proxy` beside
    its WebService (their refs are its args): their controls (the Dockerfile's, the repository's) are the service's."""
    image = "urn:pulumi:dev::rampart::rampart:image:Image::api-app"
    proxy = "urn:pulumi:dev::rampart::rampart:image:Image::api-proxy"
    built = "urn:pulumi:dev::rampart::rampart:image:Image$docker:index/image:Image::api-app"
    repo = "urn:pulumi:dev::rampart::rampart:image:Image$aws:ecr/repository:Repository::api-proxy"
    other = "urn:pulumi:dev::rampart::rampart:image:Image::shared-app"  # no service named `shared`
    other_built = "urn:pulumi:dev::rampart::rampart:image:Image$docker:index/image:Image::shared-app"
    tree = {**TREE, image: ("rampart:image:Image", STACK), proxy: ("rampart:image:Image", STACK),
            built: ("docker:index/image:Image", image), repo: ("aws:ecr/repository:Repository", proxy),
            other: ("rampart:image:Image", STACK), other_built: ("docker:index/image:Image", other)}
    outcomes = [Outcome("docker-image-require-dockerfile-controls", built, "violation", "no USER", "mandatory"),
                Outcome("aws-ecr-repository-require-scan-on-push", repo, "compliant"),
                Outcome("docker-image-require-dockerfile-controls", other_built, "compliant")]
    api = next(s for s in service_sections(outcomes, tree) if s["name"] == "api")
    assert [p["policy"] for p in api["policies"]] == ["aws-ecr-repository-require-scan-on-push",
                                                      "docker-image-require-dockerfile-controls"]
    assert api["outcome"] == "violation" and api["resources"] == 3 + 2  # its own 3 and its images' 2 resources
    assert all(other_built not in str(s) for s in service_sections(outcomes, tree))
