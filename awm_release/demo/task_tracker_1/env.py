from fastapi import FastAPI, Query, Path, Body, HTTPException
from pydantic import BaseModel, Field, ConfigDict
from typing import Optional, List
from sqlalchemy import (
    create_engine,
    Column,
    Integer,
    String,
    Text,
    Date,
    DateTime,
    ForeignKey,
    CheckConstraint,
    UniqueConstraint,
    Index,
    case,
    func,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime, date, timezone
import os
import re

database_url = os.getenv("DATABASE_PATH", "sqlite:///outputs/databases/task_tracker_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String, nullable=False)
    job_title = Column(String)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


class Workspace(Base):
    __tablename__ = "workspaces"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    slug = Column(String, unique=True, nullable=False)
    description = Column(Text)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


class WorkspaceMember(Base):
    __tablename__ = "workspace_members"
    workspace_id = Column(Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role = Column(String, nullable=False, default="member")
    joined_at = Column(DateTime)
    __table_args__ = (CheckConstraint("role IN ('admin', 'member', 'guest')"),)


class Project(Base):
    __tablename__ = "projects"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    key = Column(String, nullable=False)
    description = Column(Text)
    status = Column(String, nullable=False, default="active")
    lead_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    created_at = Column(DateTime)
    updated_at = Column(DateTime)
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint("status IN ('active', 'on_hold', 'archived')"),
    )


class Milestone(Base):
    __tablename__ = "milestones"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    description = Column(Text)
    due_date = Column(Date)
    status = Column(String, nullable=False, default="open")
    created_at = Column(DateTime)
    updated_at = Column(DateTime)
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("status IN ('open', 'closed')"),
    )


class Task(Base):
    __tablename__ = "tasks"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    milestone_id = Column(Integer, ForeignKey("milestones.id", ondelete="SET NULL"))
    parent_task_id = Column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"))
    title = Column(Text, nullable=False)
    description = Column(Text)
    status = Column(String, nullable=False, default="todo")
    priority = Column(String, nullable=False, default="medium")
    assignee_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    reporter_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    due_date = Column(Date)
    estimate_points = Column(Integer)
    completed_at = Column(DateTime)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)
    __table_args__ = (
        CheckConstraint("status IN ('todo', 'in_progress', 'done')"),
        CheckConstraint("priority IN ('low', 'medium', 'high', 'urgent')"),
    )


class Label(Base):
    __tablename__ = "labels"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    color = Column(String, nullable=False, default="#cccccc")
    description = Column(Text)
    created_at = Column(DateTime)
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)


class TaskLabel(Base):
    __tablename__ = "task_labels"
    task_id = Column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    label_id = Column(Integer, ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)
    added_at = Column(DateTime)


class Comment(Base):
    __tablename__ = "comments"
    id = Column(Integer, primary_key=True)
    task_id = Column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    author_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


Index("idx_users_full_name", User.full_name)
Index("idx_workspace_members_user_id", WorkspaceMember.user_id)
Index("idx_projects_workspace_status", Project.workspace_id, Project.status)
Index("idx_milestones_project_id", Milestone.project_id)
Index("idx_tasks_project_status", Task.project_id, Task.status)
Index("idx_tasks_assignee_status", Task.assignee_id, Task.status)
Index("idx_tasks_parent_task_id", Task.parent_task_id)
Index("idx_tasks_due_date", Task.due_date)
Index("idx_labels_workspace_id", Label.workspace_id)
Index("idx_task_labels_label_id", TaskLabel.label_id)
Index("idx_comments_task_created", Comment.task_id, Comment.created_at)

app = FastAPI(title="Team Task Tracker API", version="1.0.0")

TASK_STATUSES = ("todo", "in_progress", "done")
TASK_PRIORITIES = ("low", "medium", "high", "urgent")
PROJECT_STATUSES = ("active", "on_hold", "archived")
MILESTONE_STATUSES = ("open", "closed")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class WorkspaceModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Workspace ID.", examples=[1])
    name: str = Field(..., description="Workspace display name.", examples=["Northwind Labs"])
    slug: str = Field(..., description="URL-friendly unique workspace slug.", examples=["northwind-labs"])
    description: Optional[str] = Field(None, description="Workspace description.", examples=["Product engineering workspace."])
    owner_id: int = Field(..., description="User ID of the workspace owner.", examples=[1])
    my_role: str = Field(..., description="Role of the authenticated user in this workspace: admin, member or guest.", examples=["admin"])
    member_count: int = Field(..., description="Number of workspace members.", examples=[9])
    project_count: int = Field(..., description="Number of projects in the workspace.", examples=[5])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2024-01-10T09:00:00"])


class WorkspaceListResponse(BaseModel):
    workspaces: List[WorkspaceModel] = Field(..., description="Workspaces the authenticated user belongs to.", examples=[[]])


class MemberModel(BaseModel):
    user_id: int = Field(..., description="User ID of the member.", examples=[3])
    username: str = Field(..., description="Unique username.", examples=["priya.raman"])
    full_name: str = Field(..., description="Member's full name.", examples=["Priya Raman"])
    email: str = Field(..., description="Member's email address.", examples=["priya.raman@northwindlabs.io"])
    job_title: Optional[str] = Field(None, description="Member's job title.", examples=["Full-Stack Engineer"])
    role: str = Field(..., description="Workspace role: admin, member or guest.", examples=["member"])
    joined_at: Optional[datetime] = Field(None, description="When the member joined the workspace (ISO 8601).", examples=["2024-02-01T10:00:00"])


class MemberListResponse(BaseModel):
    workspace_id: int = Field(..., description="Workspace ID the members belong to.", examples=[1])
    members: List[MemberModel] = Field(..., description="Matching workspace members.", examples=[[]])


class WorkloadItemModel(BaseModel):
    user_id: int = Field(..., description="Member user ID.", examples=[4])
    full_name: str = Field(..., description="Member's full name.", examples=["Lucas Ferreira"])
    todo_count: int = Field(..., description="Assigned tasks in status todo.", examples=[4])
    in_progress_count: int = Field(..., description="Assigned tasks in status in_progress.", examples=[2])
    done_count: int = Field(..., description="Assigned tasks in status done.", examples=[1])
    open_count: int = Field(..., description="Assigned tasks that are not done (todo + in_progress).", examples=[6])


class WorkloadResponse(BaseModel):
    workspace_id: int = Field(..., description="Workspace ID.", examples=[1])
    project_id: Optional[int] = Field(None, description="Project filter applied, if any.", examples=[None])
    workload: List[WorkloadItemModel] = Field(..., description="Per-member task counts, most open tasks first.", examples=[[]])


class ProjectModel(BaseModel):
    id: int = Field(..., description="Project ID.", examples=[2])
    workspace_id: int = Field(..., description="Workspace ID that owns the project.", examples=[1])
    name: str = Field(..., description="Project name.", examples=["Customer Portal"])
    key: str = Field(..., description="Short project key, unique per workspace.", examples=["CP"])
    description: Optional[str] = Field(None, description="Project description.", examples=["Self-service web portal."])
    status: str = Field(..., description="Project status: active, on_hold or archived.", examples=["active"])
    lead_id: Optional[int] = Field(None, description="User ID of the project lead.", examples=[3])
    lead_name: Optional[str] = Field(None, description="Full name of the project lead.", examples=["Priya Raman"])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2024-03-01T09:00:00"])
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp (ISO 8601).", examples=["2024-06-01T09:00:00"])


class ProjectListResponse(BaseModel):
    projects: List[ProjectModel] = Field(..., description="Matching projects.", examples=[[]])


class ProjectDetailModel(ProjectModel):
    todo_count: int = Field(..., description="Number of tasks in status todo.", examples=[6])
    in_progress_count: int = Field(..., description="Number of tasks in status in_progress.", examples=[3])
    done_count: int = Field(..., description="Number of tasks in status done.", examples=[2])
    milestone_count: int = Field(..., description="Number of milestones in the project.", examples=[1])


class ProjectDetailResponse(BaseModel):
    project: ProjectDetailModel = Field(..., description="Project details with task counts.", examples=[{}])


class ProjectUpdateBody(BaseModel):
    name: Optional[str] = Field(None, description="New project name; omit to keep unchanged.", examples=["Internal Tools Cleanup"])
    description: Optional[str] = Field(None, description="New project description; omit to keep unchanged.", examples=["Self-service portal for customers."])
    status: Optional[str] = Field(None, description="New status: active, on_hold or archived.", examples=["on_hold"])
    lead_id: Optional[int] = Field(None, description="User ID of the new project lead (must be a workspace member).", examples=[3])


class MilestoneModel(BaseModel):
    id: int = Field(..., description="Milestone ID.", examples=[6])
    project_id: int = Field(..., description="Project ID the milestone belongs to.", examples=[1])
    name: str = Field(..., description="Milestone name, unique within the project.", examples=["Beta Release"])
    description: Optional[str] = Field(None, description="Milestone description.", examples=["Public beta on both stores."])
    due_date: Optional[date] = Field(None, description="Milestone due date (YYYY-MM-DD).", examples=["2025-08-29"])
    status: str = Field(..., description="Milestone status: open or closed.", examples=["open"])
    task_count: int = Field(..., description="Number of tasks in the milestone.", examples=[3])
    open_task_count: int = Field(..., description="Number of tasks in the milestone that are not done.", examples=[3])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2025-06-01T09:00:00"])
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp (ISO 8601).", examples=["2025-06-01T09:00:00"])


class MilestoneListResponse(BaseModel):
    milestones: List[MilestoneModel] = Field(..., description="Milestones of the project ordered by due date.", examples=[[]])


class MilestoneCreateBody(BaseModel):
    name: str = Field(..., description="Milestone name, unique within the project.", examples=["Beta Release"])
    description: Optional[str] = Field(None, description="Optional milestone description.", examples=["Public beta on both stores."])
    due_date: Optional[date] = Field(None, description="Due date (YYYY-MM-DD).", examples=["2025-08-29"])


class MilestoneResponse(BaseModel):
    milestone: MilestoneModel = Field(..., description="Milestone object.", examples=[{}])


class LabelModel(BaseModel):
    id: int = Field(..., description="Label ID.", examples=[2])
    workspace_id: int = Field(..., description="Workspace ID the label belongs to.", examples=[1])
    name: str = Field(..., description="Label name, unique within the workspace.", examples=["feature"])
    color: str = Field(..., description="Hex color code (#RRGGBB).", examples=["#0e8a16"])
    description: Optional[str] = Field(None, description="Label description.", examples=["New user-facing functionality."])
    task_count: int = Field(0, description="Number of tasks carrying the label.", examples=[4])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2024-01-10T09:00:00"])


class LabelListResponse(BaseModel):
    labels: List[LabelModel] = Field(..., description="Labels of the workspace ordered by name.", examples=[[]])


class LabelCreateBody(BaseModel):
    name: str = Field(..., description="Label name, unique within the workspace (case-insensitive).", examples=["security"])
    color: str = Field("#cccccc", description="Hex color code in the form #RRGGBB.", examples=["#D93F0B"])
    description: Optional[str] = Field(None, description="Optional label description.", examples=["Security related work."])


class LabelResponse(BaseModel):
    label: LabelModel = Field(..., description="Label object.", examples=[{}])


class TaskLabelModel(BaseModel):
    id: int = Field(..., description="Label ID.", examples=[1])
    name: str = Field(..., description="Label name.", examples=["bug"])
    color: str = Field(..., description="Label color.", examples=["#d73a4a"])


class TaskSummaryModel(BaseModel):
    id: int = Field(..., description="Task ID.", examples=[17])
    project_id: int = Field(..., description="Project ID of the task.", examples=[2])
    project_name: str = Field(..., description="Project name of the task.", examples=["Customer Portal"])
    milestone_id: Optional[int] = Field(None, description="Milestone ID, if the task is in a milestone.", examples=[3])
    parent_task_id: Optional[int] = Field(None, description="Parent task ID if this is a sub-task.", examples=[None])
    title: str = Field(..., description="Task title.", examples=["Invoice PDF shows wrong currency symbol"])
    status: str = Field(..., description="Task status: todo, in_progress or done.", examples=["todo"])
    priority: str = Field(..., description="Task priority: low, medium, high or urgent.", examples=["high"])
    assignee_id: Optional[int] = Field(None, description="User ID of the assignee, null when unassigned.", examples=[3])
    assignee_name: Optional[str] = Field(None, description="Full name of the assignee.", examples=["Priya Raman"])
    due_date: Optional[date] = Field(None, description="Due date (YYYY-MM-DD).", examples=["2025-07-11"])
    labels: List[TaskLabelModel] = Field(..., description="Labels attached to the task.", examples=[[]])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2025-06-20T09:00:00"])
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp (ISO 8601).", examples=["2025-06-24T09:00:00"])


class TaskListResponse(BaseModel):
    total: int = Field(..., description="Number of matching tasks before pagination.", examples=[5])
    tasks: List[TaskSummaryModel] = Field(..., description="Matching tasks.", examples=[[]])


class SubtaskModel(BaseModel):
    id: int = Field(..., description="Sub-task ID.", examples=[12])
    title: str = Field(..., description="Sub-task title.", examples=["Research competitor onboarding"])
    status: str = Field(..., description="Sub-task status.", examples=["done"])
    priority: str = Field(..., description="Sub-task priority.", examples=["low"])
    assignee_id: Optional[int] = Field(None, description="Sub-task assignee user ID.", examples=[5])
    assignee_name: Optional[str] = Field(None, description="Sub-task assignee full name.", examples=["Sofia Alvarez"])


class TaskDetailModel(TaskSummaryModel):
    workspace_id: int = Field(..., description="Workspace ID of the task's project.", examples=[1])
    description: Optional[str] = Field(None, description="Task description.", examples=["EUR invoices render the dollar sign."])
    milestone_name: Optional[str] = Field(None, description="Milestone name, if any.", examples=["Portal v2.1"])
    reporter_id: int = Field(..., description="User ID of the reporter.", examples=[6])
    reporter_name: Optional[str] = Field(None, description="Full name of the reporter.", examples=["Ethan Brooks"])
    estimate_points: Optional[int] = Field(None, description="Estimate in story points.", examples=[2])
    completed_at: Optional[datetime] = Field(None, description="When the task was marked done (ISO 8601).", examples=[None])
    comment_count: int = Field(..., description="Number of comments on the task.", examples=[1])
    subtasks: List[SubtaskModel] = Field(..., description="Direct sub-tasks of the task.", examples=[[]])


class TaskDetailResponse(BaseModel):
    task: TaskDetailModel = Field(..., description="Task details.", examples=[{}])


class TaskCreateBody(BaseModel):
    project_id: int = Field(..., description="Project ID to create the task in.", examples=[2])
    title: str = Field(..., description="Task title.", examples=["Add CSV export to invoices page"])
    description: Optional[str] = Field(None, description="Task description.", examples=["Let customers download invoices as CSV."])
    status: str = Field("todo", description="Initial status: todo, in_progress or done.", examples=["todo"])
    priority: str = Field("medium", description="Priority: low, medium, high or urgent.", examples=["high"])
    assignee_id: Optional[int] = Field(None, description="User ID of the assignee (must be a workspace member).", examples=[3])
    due_date: Optional[date] = Field(None, description="Due date (YYYY-MM-DD).", examples=["2025-07-18"])
    milestone_id: Optional[int] = Field(None, description="Milestone ID in the same project.", examples=[None])
    parent_task_id: Optional[int] = Field(None, description="Parent task ID in the same project to create a sub-task.", examples=[None])
    estimate_points: Optional[int] = Field(None, description="Estimate in story points (>= 0).", examples=[3])
    label_ids: List[int] = Field(default_factory=list, description="IDs of workspace labels to attach.", examples=[[2]])


class TaskUpdateBody(BaseModel):
    title: Optional[str] = Field(None, description="New title; omit to keep unchanged.", examples=["Fix login redirect loop on Safari"])
    description: Optional[str] = Field(None, description="New description; omit to keep unchanged.", examples=["Updated details."])
    status: Optional[str] = Field(None, description="New status: todo, in_progress or done.", examples=["done"])
    priority: Optional[str] = Field(None, description="New priority: low, medium, high or urgent.", examples=["urgent"])
    assignee_id: Optional[int] = Field(None, description="New assignee user ID; send null explicitly to unassign.", examples=[7])
    due_date: Optional[date] = Field(None, description="New due date (YYYY-MM-DD); send null explicitly to clear.", examples=["2025-07-31"])
    milestone_id: Optional[int] = Field(None, description="Milestone ID in the same project; send null explicitly to remove.", examples=[2])
    estimate_points: Optional[int] = Field(None, description="New estimate in story points.", examples=[5])


class TaskDeleteResponse(BaseModel):
    status: str = Field(..., description="Result of the delete operation.", examples=["deleted"])
    deleted_task_ids: List[int] = Field(..., description="IDs of the deleted task and its deleted sub-tasks.", examples=[[26]])


class TaskLabelBody(BaseModel):
    label_id: int = Field(..., description="ID of a label from the task's workspace.", examples=[2])


class TaskLabelsResponse(BaseModel):
    task_id: int = Field(..., description="Task ID.", examples=[15])
    labels: List[TaskLabelModel] = Field(..., description="Labels now attached to the task.", examples=[[]])


class CommentModel(BaseModel):
    id: int = Field(..., description="Comment ID.", examples=[14])
    task_id: int = Field(..., description="Task ID the comment belongs to.", examples=[2])
    author_id: int = Field(..., description="User ID of the author.", examples=[1])
    author_name: Optional[str] = Field(None, description="Full name of the author.", examples=["Maya Chen"])
    body: str = Field(..., description="Comment text.", examples=["Verified on Safari 17 and iOS 17, closing."])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", examples=["2025-06-30T10:00:00"])
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp (ISO 8601).", examples=["2025-06-30T10:00:00"])


class CommentListResponse(BaseModel):
    task_id: int = Field(..., description="Task ID.", examples=[2])
    comments: List[CommentModel] = Field(..., description="Comments ordered oldest first.", examples=[[]])


class CommentCreateBody(BaseModel):
    body: str = Field(..., description="Comment text.", examples=["Verified on Safari 17 and iOS 17, closing."])


class CommentResponse(BaseModel):
    comment: CommentModel = Field(..., description="Created comment.", examples=[{}])


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _user_name(session, user_id: Optional[int]) -> Optional[str]:
    if user_id is None:
        return None
    u = session.query(User).filter(User.id == user_id).first()
    return u.full_name if u is not None else None


def _require_membership(session, workspace_id: int, user_id: int) -> WorkspaceMember:
    m = (
        session.query(WorkspaceMember)
        .filter(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id)
        .first()
    )
    if m is None:
        raise HTTPException(status_code=404, detail="Workspace not found")
    return m


def _get_workspace(session, workspace_id: int, user_id: int) -> Workspace:
    ws = session.query(Workspace).filter(Workspace.id == workspace_id).first()
    if ws is None:
        raise HTTPException(status_code=404, detail="Workspace not found")
    _require_membership(session, workspace_id, user_id)
    return ws


def _get_project(session, project_id: int, user_id: int) -> Project:
    p = session.query(Project).filter(Project.id == project_id).first()
    if p is None:
        raise HTTPException(status_code=404, detail="Project not found")
    _require_membership(session, p.workspace_id, user_id)
    return p


def _get_task(session, task_id: int, user_id: int):
    t = session.query(Task).filter(Task.id == task_id).first()
    if t is None:
        raise HTTPException(status_code=404, detail="Task not found")
    p = session.query(Project).filter(Project.id == t.project_id).first()
    _require_membership(session, p.workspace_id, user_id)
    return t, p


def _check_assignee(session, workspace_id: int, assignee_id: Optional[int]) -> None:
    if assignee_id is None:
        return
    m = (
        session.query(WorkspaceMember)
        .filter(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == assignee_id)
        .first()
    )
    if m is None:
        raise HTTPException(status_code=400, detail="Assignee must be a member of the project's workspace")


def _check_milestone(session, project_id: int, milestone_id: Optional[int]) -> None:
    if milestone_id is None:
        return
    ms = session.query(Milestone).filter(Milestone.id == milestone_id).first()
    if ms is None:
        raise HTTPException(status_code=404, detail="Milestone not found")
    if ms.project_id != project_id:
        raise HTTPException(status_code=400, detail="Milestone belongs to a different project")


def _task_labels(session, task_id: int) -> List[TaskLabelModel]:
    rows = (
        session.query(Label)
        .join(TaskLabel, TaskLabel.label_id == Label.id)
        .filter(TaskLabel.task_id == task_id)
        .order_by(Label.name.asc())
        .all()
    )
    return [TaskLabelModel(id=lb.id, name=lb.name, color=lb.color) for lb in rows]


def _task_summary(session, t: Task, project_name: str) -> TaskSummaryModel:
    return TaskSummaryModel(
        id=t.id,
        project_id=t.project_id,
        project_name=project_name,
        milestone_id=t.milestone_id,
        parent_task_id=t.parent_task_id,
        title=t.title,
        status=t.status,
        priority=t.priority,
        assignee_id=t.assignee_id,
        assignee_name=_user_name(session, t.assignee_id),
        due_date=t.due_date,
        labels=_task_labels(session, t.id),
        created_at=t.created_at,
        updated_at=t.updated_at,
    )


def _task_detail(session, t: Task, p: Project) -> TaskDetailModel:
    milestone_name = None
    if t.milestone_id is not None:
        ms = session.query(Milestone).filter(Milestone.id == t.milestone_id).first()
        milestone_name = ms.name if ms is not None else None
    subtasks = []
    for s in session.query(Task).filter(Task.parent_task_id == t.id).order_by(Task.id.asc()).all():
        subtasks.append(
            SubtaskModel(
                id=s.id,
                title=s.title,
                status=s.status,
                priority=s.priority,
                assignee_id=s.assignee_id,
                assignee_name=_user_name(session, s.assignee_id),
            )
        )
    comment_count = session.query(func.count(Comment.id)).filter(Comment.task_id == t.id).scalar() or 0
    summary = _task_summary(session, t, p.name)
    return TaskDetailModel(
        **summary.model_dump(),
        workspace_id=p.workspace_id,
        description=t.description,
        milestone_name=milestone_name,
        reporter_id=t.reporter_id,
        reporter_name=_user_name(session, t.reporter_id),
        estimate_points=t.estimate_points,
        completed_at=t.completed_at,
        comment_count=int(comment_count),
        subtasks=subtasks,
    )


def _milestone_model(session, ms: Milestone) -> MilestoneModel:
    task_count = session.query(func.count(Task.id)).filter(Task.milestone_id == ms.id).scalar() or 0
    open_count = (
        session.query(func.count(Task.id)).filter(Task.milestone_id == ms.id, Task.status != "done").scalar() or 0
    )
    return MilestoneModel(
        id=ms.id,
        project_id=ms.project_id,
        name=ms.name,
        description=ms.description,
        due_date=ms.due_date,
        status=ms.status,
        task_count=int(task_count),
        open_task_count=int(open_count),
        created_at=ms.created_at,
        updated_at=ms.updated_at,
    )


def _project_model(session, p: Project) -> ProjectModel:
    return ProjectModel(
        id=p.id,
        workspace_id=p.workspace_id,
        name=p.name,
        key=p.key,
        description=p.description,
        status=p.status,
        lead_id=p.lead_id,
        lead_name=_user_name(session, p.lead_id),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _project_detail(session, p: Project) -> ProjectDetailModel:
    counts = {
        s: int(c)
        for s, c in session.query(Task.status, func.count(Task.id)).filter(Task.project_id == p.id).group_by(Task.status).all()
    }
    milestone_count = session.query(func.count(Milestone.id)).filter(Milestone.project_id == p.id).scalar() or 0
    return ProjectDetailModel(
        **_project_model(session, p).model_dump(),
        todo_count=counts.get("todo", 0),
        in_progress_count=counts.get("in_progress", 0),
        done_count=counts.get("done", 0),
        milestone_count=int(milestone_count),
    )


def _label_model(session, lb: Label) -> LabelModel:
    cnt = session.query(func.count(TaskLabel.task_id)).filter(TaskLabel.label_id == lb.id).scalar() or 0
    return LabelModel(
        id=lb.id,
        workspace_id=lb.workspace_id,
        name=lb.name,
        color=lb.color,
        description=lb.description,
        task_count=int(cnt),
        created_at=lb.created_at,
    )


# ---------------------------------------------------------------------------
# Workspaces and members
# ---------------------------------------------------------------------------


@app.get(
    "/api/workspaces",
    response_model=WorkspaceListResponse,
    summary="List my workspaces",
    description="Return all workspaces the authenticated user belongs to, with their role and member/project counts.",
    tags=["workspaces"],
    operation_id="list_my_workspaces",
)
async def list_my_workspaces() -> WorkspaceListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        rows = (
            session.query(Workspace, WorkspaceMember)
            .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
            .filter(WorkspaceMember.user_id == user_id)
            .order_by(Workspace.name.asc())
            .all()
        )
        items: List[WorkspaceModel] = []
        for ws, m in rows:
            member_count = session.query(func.count(WorkspaceMember.user_id)).filter(WorkspaceMember.workspace_id == ws.id).scalar() or 0
            project_count = session.query(func.count(Project.id)).filter(Project.workspace_id == ws.id).scalar() or 0
            items.append(
                WorkspaceModel(
                    id=ws.id,
                    name=ws.name,
                    slug=ws.slug,
                    description=ws.description,
                    owner_id=ws.owner_id,
                    my_role=m.role,
                    member_count=int(member_count),
                    project_count=int(project_count),
                    created_at=ws.created_at,
                )
            )
        return WorkspaceListResponse(workspaces=items)
    finally:
        session.close()


@app.get(
    "/api/workspaces/{workspace_id}/members",
    response_model=MemberListResponse,
    summary="List workspace members",
    description="List members of a workspace, optionally filtered by a case-insensitive name/username/email search and by role.",
    tags=["workspaces", "members"],
    operation_id="list_workspace_members",
)
async def list_workspace_members(
    workspace_id: int = Path(..., description="Workspace ID.", examples=[1]),
    query: Optional[str] = Query(None, description="Case-insensitive partial match on full name, username or email.", examples=["Priya"]),
    role: Optional[str] = Query(None, description="Filter by role: admin, member or guest.", examples=["member"]),
) -> MemberListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        _get_workspace(session, workspace_id, user_id)
        q = (
            session.query(User, WorkspaceMember)
            .join(WorkspaceMember, WorkspaceMember.user_id == User.id)
            .filter(WorkspaceMember.workspace_id == workspace_id)
        )
        if query:
            like = f"%{query}%"
            q = q.filter((User.full_name.ilike(like)) | (User.username.ilike(like)) | (User.email.ilike(like)))
        if role:
            q = q.filter(WorkspaceMember.role == role)
        rows = q.order_by(User.full_name.asc()).all()
        members = [
            MemberModel(
                user_id=u.id,
                username=u.username,
                full_name=u.full_name,
                email=u.email,
                job_title=u.job_title,
                role=m.role,
                joined_at=m.joined_at,
            )
            for u, m in rows
        ]
        return MemberListResponse(workspace_id=workspace_id, members=members)
    finally:
        session.close()


@app.get(
    "/api/workspaces/{workspace_id}/workload",
    response_model=WorkloadResponse,
    summary="Get member workload",
    description="Count the tasks assigned to each workspace member by status (todo, in_progress, done) across the workspace's projects, optionally for one project only. Sorted by open tasks, most first.",
    tags=["workspaces", "members", "tasks"],
    operation_id="get_member_workload",
)
async def get_member_workload(
    workspace_id: int = Path(..., description="Workspace ID.", examples=[1]),
    project_id: Optional[int] = Query(None, description="Only count tasks of this project.", examples=[3]),
) -> WorkloadResponse:
    session = SessionLocal()
    user_id = 1
    try:
        _get_workspace(session, workspace_id, user_id)
        if project_id is not None:
            p = session.query(Project).filter(Project.id == project_id, Project.workspace_id == workspace_id).first()
            if p is None:
                raise HTTPException(status_code=404, detail="Project not found in this workspace")
        members = (
            session.query(User)
            .join(WorkspaceMember, WorkspaceMember.user_id == User.id)
            .filter(WorkspaceMember.workspace_id == workspace_id)
            .all()
        )
        items: List[WorkloadItemModel] = []
        for u in members:
            q = (
                session.query(Task.status, func.count(Task.id))
                .join(Project, Project.id == Task.project_id)
                .filter(Project.workspace_id == workspace_id, Task.assignee_id == u.id)
            )
            if project_id is not None:
                q = q.filter(Task.project_id == project_id)
            counts = {s: int(c) for s, c in q.group_by(Task.status).all()}
            todo = counts.get("todo", 0)
            in_progress = counts.get("in_progress", 0)
            items.append(
                WorkloadItemModel(
                    user_id=u.id,
                    full_name=u.full_name,
                    todo_count=todo,
                    in_progress_count=in_progress,
                    done_count=counts.get("done", 0),
                    open_count=todo + in_progress,
                )
            )
        items.sort(key=lambda it: (-it.open_count, it.full_name))
        return WorkloadResponse(workspace_id=workspace_id, project_id=project_id, workload=items)
    finally:
        session.close()


# ---------------------------------------------------------------------------
# Projects and milestones
# ---------------------------------------------------------------------------


@app.get(
    "/api/projects",
    response_model=ProjectListResponse,
    summary="List or search projects",
    description="List projects in the workspaces the user belongs to, filtered by workspace, status and a case-insensitive name search.",
    tags=["projects"],
    operation_id="list_projects",
)
async def list_projects(
    workspace_id: Optional[int] = Query(None, description="Only projects of this workspace.", examples=[1]),
    status: Optional[str] = Query(None, description="Filter by status: active, on_hold or archived.", examples=["active"]),
    query: Optional[str] = Query(None, description="Case-insensitive partial match on project name or key.", examples=["Customer Portal"]),
) -> ProjectListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        ws_ids = [r[0] for r in session.query(WorkspaceMember.workspace_id).filter(WorkspaceMember.user_id == user_id).all()]
        q = session.query(Project).filter(Project.workspace_id.in_(ws_ids))
        if workspace_id is not None:
            q = q.filter(Project.workspace_id == workspace_id)
        if status:
            q = q.filter(Project.status == status)
        if query:
            like = f"%{query}%"
            q = q.filter((Project.name.ilike(like)) | (Project.key.ilike(like)))
        projects = [_project_model(session, p) for p in q.order_by(Project.workspace_id.asc(), Project.name.asc()).all()]
        return ProjectListResponse(projects=projects)
    finally:
        session.close()


@app.get(
    "/api/projects/{project_id}",
    response_model=ProjectDetailResponse,
    summary="Get project details",
    description="Retrieve a project by ID with its lead and task counts per status.",
    tags=["projects"],
    operation_id="get_project",
)
async def get_project(
    project_id: int = Path(..., description="Project ID.", examples=[2]),
) -> ProjectDetailResponse:
    session = SessionLocal()
    user_id = 1
    try:
        p = _get_project(session, project_id, user_id)
        return ProjectDetailResponse(project=_project_detail(session, p))
    finally:
        session.close()


@app.patch(
    "/api/projects/{project_id}",
    response_model=ProjectDetailResponse,
    summary="Update a project",
    description="Update a project's name, description, status or lead. Only fields that are sent are changed.",
    tags=["projects"],
    operation_id="update_project",
)
async def update_project(
    project_id: int = Path(..., description="Project ID to update.", examples=[4]),
    body: ProjectUpdateBody = Body(..., description="Project fields to update."),
) -> ProjectDetailResponse:
    session = SessionLocal()
    user_id = 1
    try:
        p = _get_project(session, project_id, user_id)
        if body.name is not None:
            name = body.name.strip()
            if not name:
                raise HTTPException(status_code=400, detail="Project name cannot be empty")
            clash = (
                session.query(Project)
                .filter(Project.workspace_id == p.workspace_id, func.lower(Project.name) == name.lower(), Project.id != p.id)
                .first()
            )
            if clash is not None:
                raise HTTPException(status_code=409, detail="A project with this name already exists in the workspace")
            p.name = name
        if body.description is not None:
            p.description = body.description
        if body.status is not None:
            if body.status not in PROJECT_STATUSES:
                raise HTTPException(status_code=400, detail="status must be one of: active, on_hold, archived")
            p.status = body.status
        if body.lead_id is not None:
            _check_assignee(session, p.workspace_id, body.lead_id)
            p.lead_id = body.lead_id
        p.updated_at = now_utc()
        session.commit()
        return ProjectDetailResponse(project=_project_detail(session, p))
    finally:
        session.close()


@app.get(
    "/api/projects/{project_id}/milestones",
    response_model=MilestoneListResponse,
    summary="List project milestones",
    description="List the milestones of a project ordered by due date, with task counts.",
    tags=["milestones"],
    operation_id="list_project_milestones",
)
async def list_project_milestones(
    project_id: int = Path(..., description="Project ID.", examples=[1]),
    status: Optional[str] = Query(None, description="Filter by status: open or closed.", examples=["open"]),
) -> MilestoneListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        _get_project(session, project_id, user_id)
        q = session.query(Milestone).filter(Milestone.project_id == project_id)
        if status:
            q = q.filter(Milestone.status == status)
        rows = q.order_by(Milestone.due_date.asc(), Milestone.id.asc()).all()
        return MilestoneListResponse(milestones=[_milestone_model(session, ms) for ms in rows])
    finally:
        session.close()


@app.post(
    "/api/projects/{project_id}/milestones",
    response_model=MilestoneResponse,
    summary="Create a milestone",
    description="Create a new open milestone in a project. Milestone names are unique within a project.",
    tags=["milestones"],
    operation_id="create_milestone",
)
async def create_milestone(
    project_id: int = Path(..., description="Project ID to create the milestone in.", examples=[1]),
    body: MilestoneCreateBody = Body(..., description="Milestone creation payload."),
) -> MilestoneResponse:
    session = SessionLocal()
    user_id = 1
    try:
        p = _get_project(session, project_id, user_id)
        if p.status == "archived":
            raise HTTPException(status_code=400, detail="Cannot add milestones to an archived project")
        name = body.name.strip()
        if not name:
            raise HTTPException(status_code=400, detail="Milestone name cannot be empty")
        clash = (
            session.query(Milestone)
            .filter(Milestone.project_id == project_id, func.lower(Milestone.name) == name.lower())
            .first()
        )
        if clash is not None:
            raise HTTPException(status_code=409, detail="A milestone with this name already exists in the project")
        now = now_utc()
        ms = Milestone(
            project_id=project_id,
            name=name,
            description=body.description,
            due_date=body.due_date,
            status="open",
            created_at=now,
            updated_at=now,
        )
        session.add(ms)
        session.commit()
        return MilestoneResponse(milestone=_milestone_model(session, ms))
    finally:
        session.close()


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


@app.get(
    "/api/tasks",
    response_model=TaskListResponse,
    summary="Search tasks",
    description="Search tasks across the user's workspaces with filters (project, status, priority, assignee, label, milestone, parent, due date range, title text) and sorting.",
    tags=["tasks"],
    operation_id="search_tasks",
)
async def search_tasks(
    workspace_id: Optional[int] = Query(None, description="Only tasks of projects in this workspace.", examples=[1]),
    project_id: Optional[int] = Query(None, description="Only tasks of this project.", examples=[3]),
    status: Optional[str] = Query(None, description="Status filter; a single status or a comma-separated list, e.g. 'todo,in_progress'.", examples=["todo,in_progress"]),
    priority: Optional[str] = Query(None, description="Priority filter; a single priority or a comma-separated list.", examples=["urgent"]),
    assignee_id: Optional[int] = Query(None, description="Only tasks assigned to this user ID.", examples=[2]),
    unassigned: Optional[bool] = Query(None, description="If true, only tasks without an assignee.", examples=[False]),
    label_id: Optional[int] = Query(None, description="Only tasks carrying this label ID.", examples=[1]),
    label_name: Optional[str] = Query(None, description="Only tasks carrying a label with this exact name (case-insensitive).", examples=["bug"]),
    milestone_id: Optional[int] = Query(None, description="Only tasks in this milestone.", examples=[4]),
    parent_task_id: Optional[int] = Query(None, description="Only direct sub-tasks of this task.", examples=[1]),
    query: Optional[str] = Query(None, description="Case-insensitive partial match on task title.", examples=["staging database"]),
    due_before: Optional[date] = Query(None, description="Only tasks due on or before this date (YYYY-MM-DD).", examples=["2025-07-31"]),
    due_after: Optional[date] = Query(None, description="Only tasks due on or after this date (YYYY-MM-DD).", examples=["2025-07-01"]),
    sort_by: str = Query("id", description="Sort key: id, due_date, priority, created_at, updated_at or title.", examples=["due_date"]),
    sort_order: str = Query("asc", description="Sort direction: asc or desc.", examples=["asc"]),
    limit: int = Query(50, description="Maximum number of tasks to return (1-200).", examples=[50]),
    offset: int = Query(0, description="Number of tasks to skip for pagination.", examples=[0]),
) -> TaskListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        if limit < 1 or limit > 200 or offset < 0:
            raise HTTPException(status_code=400, detail="limit must be 1-200 and offset >= 0")
        ws_ids = [r[0] for r in session.query(WorkspaceMember.workspace_id).filter(WorkspaceMember.user_id == user_id).all()]
        q = session.query(Task, Project).join(Project, Project.id == Task.project_id).filter(Project.workspace_id.in_(ws_ids))
        if workspace_id is not None:
            q = q.filter(Project.workspace_id == workspace_id)
        if project_id is not None:
            q = q.filter(Task.project_id == project_id)
        if status:
            statuses = [s.strip() for s in status.split(",") if s.strip()]
            bad = [s for s in statuses if s not in TASK_STATUSES]
            if bad:
                raise HTTPException(status_code=400, detail="status must be todo, in_progress or done")
            q = q.filter(Task.status.in_(statuses))
        if priority:
            priorities = [s.strip() for s in priority.split(",") if s.strip()]
            bad = [s for s in priorities if s not in TASK_PRIORITIES]
            if bad:
                raise HTTPException(status_code=400, detail="priority must be low, medium, high or urgent")
            q = q.filter(Task.priority.in_(priorities))
        if assignee_id is not None:
            q = q.filter(Task.assignee_id == assignee_id)
        if unassigned:
            q = q.filter(Task.assignee_id.is_(None))
        if label_id is not None:
            q = q.filter(Task.id.in_(session.query(TaskLabel.task_id).filter(TaskLabel.label_id == label_id)))
        if label_name:
            sub = (
                session.query(TaskLabel.task_id)
                .join(Label, Label.id == TaskLabel.label_id)
                .filter(func.lower(Label.name) == label_name.strip().lower())
            )
            q = q.filter(Task.id.in_(sub))
        if milestone_id is not None:
            q = q.filter(Task.milestone_id == milestone_id)
        if parent_task_id is not None:
            q = q.filter(Task.parent_task_id == parent_task_id)
        if query:
            q = q.filter(Task.title.ilike(f"%{query}%"))
        if due_before is not None:
            q = q.filter(Task.due_date.isnot(None), Task.due_date <= due_before)
        if due_after is not None:
            q = q.filter(Task.due_date.isnot(None), Task.due_date >= due_after)
        sort_columns = {
            "id": Task.id,
            "due_date": Task.due_date,
            "priority": case(
                (Task.priority == "low", 1),
                (Task.priority == "medium", 2),
                (Task.priority == "high", 3),
                (Task.priority == "urgent", 4),
                else_=0,
            ),
            "created_at": Task.created_at,
            "updated_at": Task.updated_at,
            "title": Task.title,
        }
        if sort_by not in sort_columns:
            raise HTTPException(status_code=400, detail="sort_by must be id, due_date, priority, created_at, updated_at or title")
        if sort_order not in ("asc", "desc"):
            raise HTTPException(status_code=400, detail="sort_order must be asc or desc")
        col = sort_columns[sort_by]
        if sort_by == "due_date":
            q = q.order_by(Task.due_date.is_(None).asc(), col.desc() if sort_order == "desc" else col.asc(), Task.id.asc())
        else:
            q = q.order_by(col.desc() if sort_order == "desc" else col.asc(), Task.id.asc())
        total = q.count()
        rows = q.offset(offset).limit(limit).all()
        tasks = [_task_summary(session, t, p.name) for t, p in rows]
        return TaskListResponse(total=total, tasks=tasks)
    finally:
        session.close()


@app.get(
    "/api/tasks/{task_id}",
    response_model=TaskDetailResponse,
    summary="Get task details",
    description="Retrieve a task with its description, labels, milestone, reporter, sub-tasks and comment count.",
    tags=["tasks"],
    operation_id="get_task",
)
async def get_task(
    task_id: int = Path(..., description="Task ID.", examples=[2]),
) -> TaskDetailResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, p = _get_task(session, task_id, user_id)
        return TaskDetailResponse(task=_task_detail(session, t, p))
    finally:
        session.close()


@app.post(
    "/api/tasks",
    response_model=TaskDetailResponse,
    summary="Create a task or sub-task",
    description="Create a task in a project, optionally as a sub-task of another task in the same project, with assignee, due date, milestone and labels. The authenticated user is the reporter.",
    tags=["tasks"],
    operation_id="create_task",
)
async def create_task(
    body: TaskCreateBody = Body(..., description="Task creation payload."),
) -> TaskDetailResponse:
    session = SessionLocal()
    user_id = 1
    try:
        p = _get_project(session, body.project_id, user_id)
        if p.status == "archived":
            raise HTTPException(status_code=400, detail="Cannot create tasks in an archived project")
        title = body.title.strip()
        if not title:
            raise HTTPException(status_code=400, detail="Task title cannot be empty")
        if body.status not in TASK_STATUSES:
            raise HTTPException(status_code=400, detail="status must be todo, in_progress or done")
        if body.priority not in TASK_PRIORITIES:
            raise HTTPException(status_code=400, detail="priority must be low, medium, high or urgent")
        if body.estimate_points is not None and body.estimate_points < 0:
            raise HTTPException(status_code=400, detail="estimate_points must be >= 0")
        _check_assignee(session, p.workspace_id, body.assignee_id)
        _check_milestone(session, p.id, body.milestone_id)
        if body.parent_task_id is not None:
            parent = session.query(Task).filter(Task.id == body.parent_task_id).first()
            if parent is None:
                raise HTTPException(status_code=404, detail="Parent task not found")
            if parent.project_id != p.id:
                raise HTTPException(status_code=400, detail="Parent task belongs to a different project")
        label_rows: List[Label] = []
        for lid in dict.fromkeys(body.label_ids):
            lb = session.query(Label).filter(Label.id == lid).first()
            if lb is None:
                raise HTTPException(status_code=404, detail=f"Label {lid} not found")
            if lb.workspace_id != p.workspace_id:
                raise HTTPException(status_code=400, detail=f"Label {lid} belongs to a different workspace")
            label_rows.append(lb)
        now = now_utc()
        t = Task(
            project_id=p.id,
            milestone_id=body.milestone_id,
            parent_task_id=body.parent_task_id,
            title=title,
            description=body.description,
            status=body.status,
            priority=body.priority,
            assignee_id=body.assignee_id,
            reporter_id=user_id,
            due_date=body.due_date,
            estimate_points=body.estimate_points,
            completed_at=now if body.status == "done" else None,
            created_at=now,
            updated_at=now,
        )
        session.add(t)
        session.flush()
        for lb in label_rows:
            session.add(TaskLabel(task_id=t.id, label_id=lb.id, added_at=now))
        session.commit()
        return TaskDetailResponse(task=_task_detail(session, t, p))
    finally:
        session.close()


@app.patch(
    "/api/tasks/{task_id}",
    response_model=TaskDetailResponse,
    summary="Update a task",
    description="Update a task's title, description, status, priority, assignee, due date, milestone or estimate. Only fields that are sent are changed; send null explicitly to clear assignee, due date or milestone. Marking a task done records its completion time.",
    tags=["tasks"],
    operation_id="update_task",
)
async def update_task(
    task_id: int = Path(..., description="Task ID to update.", examples=[2]),
    body: TaskUpdateBody = Body(..., description="Task fields to update."),
) -> TaskDetailResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, p = _get_task(session, task_id, user_id)
        sent = body.model_fields_set
        now = now_utc()
        if "title" in sent:
            title = (body.title or "").strip()
            if not title:
                raise HTTPException(status_code=400, detail="Task title cannot be empty")
            t.title = title
        if "description" in sent:
            t.description = body.description
        if "status" in sent:
            if body.status not in TASK_STATUSES:
                raise HTTPException(status_code=400, detail="status must be todo, in_progress or done")
            if body.status == "done" and t.status != "done":
                t.completed_at = now
            elif body.status != "done":
                t.completed_at = None
            t.status = body.status
        if "priority" in sent:
            if body.priority not in TASK_PRIORITIES:
                raise HTTPException(status_code=400, detail="priority must be low, medium, high or urgent")
            t.priority = body.priority
        if "assignee_id" in sent:
            _check_assignee(session, p.workspace_id, body.assignee_id)
            t.assignee_id = body.assignee_id
        if "due_date" in sent:
            t.due_date = body.due_date
        if "milestone_id" in sent:
            _check_milestone(session, p.id, body.milestone_id)
            t.milestone_id = body.milestone_id
        if "estimate_points" in sent:
            if body.estimate_points is not None and body.estimate_points < 0:
                raise HTTPException(status_code=400, detail="estimate_points must be >= 0")
            t.estimate_points = body.estimate_points
        t.updated_at = now
        session.commit()
        return TaskDetailResponse(task=_task_detail(session, t, p))
    finally:
        session.close()


@app.delete(
    "/api/tasks/{task_id}",
    response_model=TaskDeleteResponse,
    summary="Delete a task",
    description="Permanently delete a task together with its sub-tasks, comments and label links.",
    tags=["tasks"],
    operation_id="delete_task",
)
async def delete_task(
    task_id: int = Path(..., description="Task ID to delete.", examples=[26]),
) -> TaskDeleteResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, _p = _get_task(session, task_id, user_id)
        to_delete = [t.id]
        frontier = [t.id]
        while frontier:
            children = [r[0] for r in session.query(Task.id).filter(Task.parent_task_id.in_(frontier)).all()]
            children = [c for c in children if c not in to_delete]
            to_delete.extend(children)
            frontier = children
        session.query(TaskLabel).filter(TaskLabel.task_id.in_(to_delete)).delete(synchronize_session=False)
        session.query(Comment).filter(Comment.task_id.in_(to_delete)).delete(synchronize_session=False)
        for tid in reversed(to_delete):
            session.query(Task).filter(Task.id == tid).delete(synchronize_session=False)
        session.commit()
        return TaskDeleteResponse(status="deleted", deleted_task_ids=to_delete)
    finally:
        session.close()


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------


@app.get(
    "/api/workspaces/{workspace_id}/labels",
    response_model=LabelListResponse,
    summary="List workspace labels",
    description="List the labels defined in a workspace with how many tasks carry each, optionally filtered by a name search.",
    tags=["labels"],
    operation_id="list_workspace_labels",
)
async def list_workspace_labels(
    workspace_id: int = Path(..., description="Workspace ID.", examples=[1]),
    query: Optional[str] = Query(None, description="Case-insensitive partial match on label name.", examples=["bug"]),
) -> LabelListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        _get_workspace(session, workspace_id, user_id)
        q = session.query(Label).filter(Label.workspace_id == workspace_id)
        if query:
            q = q.filter(Label.name.ilike(f"%{query}%"))
        return LabelListResponse(labels=[_label_model(session, lb) for lb in q.order_by(Label.name.asc()).all()])
    finally:
        session.close()


@app.post(
    "/api/workspaces/{workspace_id}/labels",
    response_model=LabelResponse,
    summary="Create a label",
    description="Create a new label in a workspace. Names are unique per workspace (case-insensitive); color must be a #RRGGBB hex code.",
    tags=["labels"],
    operation_id="create_label",
)
async def create_label(
    workspace_id: int = Path(..., description="Workspace ID to create the label in.", examples=[1]),
    body: LabelCreateBody = Body(..., description="Label creation payload."),
) -> LabelResponse:
    session = SessionLocal()
    user_id = 1
    try:
        _get_workspace(session, workspace_id, user_id)
        name = body.name.strip()
        if not name:
            raise HTTPException(status_code=400, detail="Label name cannot be empty")
        if not COLOR_PATTERN.match(body.color or ""):
            raise HTTPException(status_code=400, detail="color must be a hex code like #1a2b3c")
        clash = (
            session.query(Label)
            .filter(Label.workspace_id == workspace_id, func.lower(Label.name) == name.lower())
            .first()
        )
        if clash is not None:
            raise HTTPException(status_code=409, detail="A label with this name already exists in the workspace")
        lb = Label(workspace_id=workspace_id, name=name, color=body.color, description=body.description, created_at=now_utc())
        session.add(lb)
        session.commit()
        return LabelResponse(label=_label_model(session, lb))
    finally:
        session.close()


@app.post(
    "/api/tasks/{task_id}/labels",
    response_model=TaskLabelsResponse,
    summary="Add a label to a task",
    description="Attach an existing label of the task's workspace to a task.",
    tags=["labels", "tasks"],
    operation_id="add_label_to_task",
)
async def add_label_to_task(
    task_id: int = Path(..., description="Task ID.", examples=[15]),
    body: TaskLabelBody = Body(..., description="Label to attach."),
) -> TaskLabelsResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, p = _get_task(session, task_id, user_id)
        lb = session.query(Label).filter(Label.id == body.label_id).first()
        if lb is None:
            raise HTTPException(status_code=404, detail="Label not found")
        if lb.workspace_id != p.workspace_id:
            raise HTTPException(status_code=400, detail="Label belongs to a different workspace than the task")
        existing = session.query(TaskLabel).filter(TaskLabel.task_id == t.id, TaskLabel.label_id == lb.id).first()
        if existing is not None:
            raise HTTPException(status_code=409, detail="Label is already attached to this task")
        now = now_utc()
        session.add(TaskLabel(task_id=t.id, label_id=lb.id, added_at=now))
        t.updated_at = now
        session.commit()
        return TaskLabelsResponse(task_id=t.id, labels=_task_labels(session, t.id))
    finally:
        session.close()


@app.delete(
    "/api/tasks/{task_id}/labels/{label_id}",
    response_model=TaskLabelsResponse,
    summary="Remove a label from a task",
    description="Detach a label from a task. The label itself is kept in the workspace.",
    tags=["labels", "tasks"],
    operation_id="remove_label_from_task",
)
async def remove_label_from_task(
    task_id: int = Path(..., description="Task ID.", examples=[21]),
    label_id: int = Path(..., description="Label ID to detach.", examples=[7]),
) -> TaskLabelsResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, _p = _get_task(session, task_id, user_id)
        link = session.query(TaskLabel).filter(TaskLabel.task_id == t.id, TaskLabel.label_id == label_id).first()
        if link is None:
            raise HTTPException(status_code=404, detail="Label is not attached to this task")
        session.delete(link)
        t.updated_at = now_utc()
        session.commit()
        return TaskLabelsResponse(task_id=t.id, labels=_task_labels(session, t.id))
    finally:
        session.close()


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


@app.get(
    "/api/tasks/{task_id}/comments",
    response_model=CommentListResponse,
    summary="List task comments",
    description="List the comments on a task, oldest first, with author names.",
    tags=["comments"],
    operation_id="list_task_comments",
)
async def list_task_comments(
    task_id: int = Path(..., description="Task ID.", examples=[27]),
) -> CommentListResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, _p = _get_task(session, task_id, user_id)
        rows = session.query(Comment).filter(Comment.task_id == t.id).order_by(Comment.created_at.asc(), Comment.id.asc()).all()
        comments = [
            CommentModel(
                id=c.id,
                task_id=c.task_id,
                author_id=c.author_id,
                author_name=_user_name(session, c.author_id),
                body=c.body,
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
            for c in rows
        ]
        return CommentListResponse(task_id=t.id, comments=comments)
    finally:
        session.close()


@app.post(
    "/api/tasks/{task_id}/comments",
    response_model=CommentResponse,
    summary="Comment on a task",
    description="Post a comment on a task as the authenticated user.",
    tags=["comments"],
    operation_id="add_task_comment",
)
async def add_task_comment(
    task_id: int = Path(..., description="Task ID to comment on.", examples=[2]),
    body: CommentCreateBody = Body(..., description="Comment payload."),
) -> CommentResponse:
    session = SessionLocal()
    user_id = 1
    try:
        t, _p = _get_task(session, task_id, user_id)
        text = body.body.strip()
        if not text:
            raise HTTPException(status_code=400, detail="Comment body cannot be empty")
        now = now_utc()
        c = Comment(task_id=t.id, author_id=user_id, body=text, created_at=now, updated_at=now)
        session.add(c)
        session.commit()
        comment = CommentModel(
            id=c.id,
            task_id=c.task_id,
            author_id=c.author_id,
            author_name=_user_name(session, c.author_id),
            body=c.body,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        return CommentResponse(comment=comment)
    finally:
        session.close()


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
