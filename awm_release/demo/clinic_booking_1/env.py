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
    Float,
    ForeignKey,
    CheckConstraint,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime, date
import os

database_url = os.getenv("DATABASE_PATH", "sqlite:///outputs/databases/clinic_booking_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    full_name = Column(String, nullable=False)
    email = Column(String, unique=True, nullable=False, index=True)
    phone = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class InsurancePlan(Base):
    __tablename__ = "insurance_plans"
    id = Column(Integer, primary_key=True)
    carrier = Column(String, nullable=False, index=True)
    plan_name = Column(String, nullable=False, unique=True)
    plan_type = Column(String, nullable=False)
    coverage_type = Column(String, nullable=False, default="medical")
    created_at = Column(DateTime, default=datetime.utcnow)


class Patient(Base):
    __tablename__ = "patients"
    id = Column(Integer, primary_key=True)
    account_user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    first_name = Column(String, nullable=False)
    last_name = Column(String, nullable=False)
    relationship = Column(String, nullable=False)
    date_of_birth = Column(Date, nullable=False)
    sex = Column(String)
    phone = Column(String)
    insurance_plan_id = Column(Integer, ForeignKey("insurance_plans.id", ondelete="SET NULL"))
    insurance_member_id = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)
    __table_args__ = (
        CheckConstraint("relationship IN ('self', 'child', 'spouse', 'parent', 'other')"),
    )


class Clinic(Base):
    __tablename__ = "clinics"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False, unique=True)
    address_line = Column(String, nullable=False)
    city = Column(String, nullable=False, index=True)
    state = Column(String, nullable=False)
    postal_code = Column(String, nullable=False)
    phone = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Specialty(Base):
    __tablename__ = "specialties"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False, unique=True)
    description = Column(Text)


class Practitioner(Base):
    __tablename__ = "practitioners"
    id = Column(Integer, primary_key=True)
    clinic_id = Column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False, index=True)
    specialty_id = Column(Integer, ForeignKey("specialties.id"), nullable=False, index=True)
    full_name = Column(String, nullable=False)
    credential = Column(String, nullable=False)
    gender = Column(String)
    languages = Column(String, nullable=False, default="English")
    bio = Column(Text)
    years_experience = Column(Integer)
    accepts_new_patients = Column(Integer, nullable=False, default=1)
    rating_avg = Column(Float)
    rating_count = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class PractitionerInsurancePlan(Base):
    __tablename__ = "practitioner_insurance_plans"
    practitioner_id = Column(Integer, ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True)
    insurance_plan_id = Column(Integer, ForeignKey("insurance_plans.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at = Column(DateTime, default=datetime.utcnow)


class VisitReason(Base):
    __tablename__ = "visit_reasons"
    id = Column(Integer, primary_key=True)
    specialty_id = Column(Integer, ForeignKey("specialties.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String, nullable=False)
    duration_minutes = Column(Integer, nullable=False)
    is_telehealth_eligible = Column(Integer, nullable=False, default=0)
    __table_args__ = (UniqueConstraint("specialty_id", "name"),)


class AvailabilitySlot(Base):
    __tablename__ = "availability_slots"
    id = Column(Integer, primary_key=True)
    practitioner_id = Column(Integer, ForeignKey("practitioners.id", ondelete="CASCADE"), nullable=False, index=True)
    start_time = Column(DateTime, nullable=False)
    end_time = Column(DateTime, nullable=False)
    visit_mode = Column(String, nullable=False)
    status = Column(String, nullable=False, default="available")
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)
    __table_args__ = (
        UniqueConstraint("practitioner_id", "start_time"),
        CheckConstraint("visit_mode IN ('in_person', 'video')"),
        CheckConstraint("status IN ('available', 'booked', 'blocked')"),
    )


class Appointment(Base):
    __tablename__ = "appointments"
    id = Column(Integer, primary_key=True)
    patient_id = Column(Integer, ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True)
    practitioner_id = Column(Integer, ForeignKey("practitioners.id"), nullable=False, index=True)
    slot_id = Column(Integer, ForeignKey("availability_slots.id"), nullable=False)
    visit_reason_id = Column(Integer, ForeignKey("visit_reasons.id"), nullable=False)
    booked_by_user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    status = Column(String, nullable=False, default="scheduled", index=True)
    notes = Column(Text)
    cancellation_reason = Column(Text)
    cancelled_at = Column(DateTime)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Review(Base):
    __tablename__ = "reviews"
    id = Column(Integer, primary_key=True)
    practitioner_id = Column(Integer, ForeignKey("practitioners.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    appointment_id = Column(Integer, ForeignKey("appointments.id", ondelete="SET NULL"), unique=True)
    rating = Column(Integer, nullable=False)
    comment = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5"),)


app = FastAPI(
    title="CareSlot Clinic Booking API",
    version="1.0.0",
    description="Find practitioners, check availability and manage appointments for yourself and your dependents.",
)


def now_utc() -> datetime:
    return datetime.utcnow()


def split_languages(value: Optional[str]) -> List[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_day(value: Optional[str], field_name: str) -> Optional[str]:
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise HTTPException(status_code=400, detail=f"{field_name} must be a date in YYYY-MM-DD format")


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class SpecialtyModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Specialty ID.", examples=[2])
    name: str = Field(..., description="Specialty name.", examples=["Pediatrics"])
    description: Optional[str] = Field(None, description="Short description of the specialty.", examples=["Medical care for infants, children and adolescents."])


class SpecialtyListResponse(BaseModel):
    specialties: List[SpecialtyModel] = Field(..., description="All specialties offered on the platform.")


class ClinicModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Clinic ID.", examples=[2])
    name: str = Field(..., description="Clinic name.", examples=["Cascade Pediatrics Center"])
    address_line: str = Field(..., description="Street address.", examples=["815 Madison St"])
    city: str = Field(..., description="City.", examples=["Seattle"])
    state: str = Field(..., description="Two-letter state code.", examples=["WA"])
    postal_code: str = Field(..., description="ZIP code.", examples=["98104"])
    phone: Optional[str] = Field(None, description="Front desk phone number.", examples=["206-555-0410"])


class ClinicListResponse(BaseModel):
    clinics: List[ClinicModel] = Field(..., description="Clinics matching the filters.")


class InsurancePlanModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Insurance plan ID.", examples=[3])
    carrier: str = Field(..., description="Insurance carrier.", examples=["UnitedHealthcare"])
    plan_name: str = Field(..., description="Full plan name.", examples=["UnitedHealthcare Choice Plus"])
    plan_type: str = Field(..., description="Plan type (PPO, HMO, EPO, POS, Medicare, Medicaid).", examples=["PPO"])
    coverage_type: str = Field(..., description="Coverage type (medical, dental, vision).", examples=["medical"])


class InsurancePlanListResponse(BaseModel):
    insurance_plans: List[InsurancePlanModel] = Field(..., description="Insurance plans matching the filters.")


class VisitReasonModel(BaseModel):
    id: int = Field(..., description="Visit reason ID.", examples=[4])
    specialty_id: int = Field(..., description="Specialty this reason belongs to.", examples=[2])
    specialty_name: str = Field(..., description="Specialty name.", examples=["Pediatrics"])
    name: str = Field(..., description="Visit reason name.", examples=["Well-Child Visit"])
    duration_minutes: int = Field(..., description="Typical visit length in minutes.", examples=[30])
    is_telehealth_eligible: bool = Field(..., description="Whether the reason may be booked into a video slot.", examples=[False])


class VisitReasonListResponse(BaseModel):
    visit_reasons: List[VisitReasonModel] = Field(..., description="Visit reasons matching the filters.")


class PractitionerSummaryModel(BaseModel):
    id: int = Field(..., description="Practitioner ID.", examples=[3])
    full_name: str = Field(..., description="Practitioner display name.", examples=["Dr. Elena Vasquez"])
    credential: str = Field(..., description="Professional credential (MD, DO, NP, PA, DDS, DMD).", examples=["MD"])
    gender: Optional[str] = Field(None, description="Gender.", examples=["female"])
    specialty_id: int = Field(..., description="Specialty ID.", examples=[2])
    specialty_name: str = Field(..., description="Specialty name.", examples=["Pediatrics"])
    clinic_id: int = Field(..., description="Clinic ID.", examples=[2])
    clinic_name: str = Field(..., description="Clinic name.", examples=["Cascade Pediatrics Center"])
    city: str = Field(..., description="Clinic city.", examples=["Seattle"])
    languages: List[str] = Field(..., description="Languages spoken.", examples=[["English", "Spanish"]])
    years_experience: Optional[int] = Field(None, description="Years in practice.", examples=[17])
    accepts_new_patients: bool = Field(..., description="Whether the practitioner accepts new patients.", examples=[True])
    rating_avg: Optional[float] = Field(None, description="Average patient rating (1-5).", examples=[4.9])
    rating_count: int = Field(..., description="Number of ratings.", examples=[301])


class PractitionerSearchResponse(BaseModel):
    practitioners: List[PractitionerSummaryModel] = Field(..., description="Matching practitioners.")
    total: int = Field(..., description="Total matches before pagination.", examples=[2])


class PractitionerDetailModel(PractitionerSummaryModel):
    bio: Optional[str] = Field(None, description="Short biography.", examples=["Pediatrician who loves well-child care."])
    clinic: ClinicModel = Field(..., description="Clinic where the practitioner sees patients.")
    insurance_plans: List[InsurancePlanModel] = Field(..., description="Insurance plans the practitioner accepts.")


class PractitionerDetailResponse(BaseModel):
    practitioner: PractitionerDetailModel = Field(..., description="Practitioner profile.")


class SlotModel(BaseModel):
    id: int = Field(..., description="Slot ID.", examples=[13])
    practitioner_id: int = Field(..., description="Practitioner ID.", examples=[3])
    start_time: datetime = Field(..., description="Slot start (clinic local time).", examples=["2027-03-10T10:00:00"])
    end_time: datetime = Field(..., description="Slot end (clinic local time).", examples=["2027-03-10T10:30:00"])
    visit_mode: str = Field(..., description="in_person or video.", examples=["in_person"])
    status: str = Field(..., description="available, booked or blocked.", examples=["available"])


class SlotListResponse(BaseModel):
    practitioner_id: int = Field(..., description="Practitioner ID.", examples=[3])
    slots: List[SlotModel] = Field(..., description="Slots ordered by start time.")


class ReviewModel(BaseModel):
    id: int = Field(..., description="Review ID.", examples=[8])
    practitioner_id: int = Field(..., description="Reviewed practitioner ID.", examples=[5])
    user_id: int = Field(..., description="Author user ID.", examples=[1])
    appointment_id: Optional[int] = Field(None, description="Appointment the review is about.", examples=[7])
    rating: int = Field(..., description="Star rating 1-5.", examples=[5])
    comment: Optional[str] = Field(None, description="Review text.", examples=["Thorough and kind."])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp.", examples=["2027-03-01T10:00:00"])


class ReviewListResponse(BaseModel):
    practitioner_id: int = Field(..., description="Practitioner ID.", examples=[5])
    rating_avg: Optional[float] = Field(None, description="Average rating.", examples=[4.8])
    rating_count: int = Field(..., description="Number of ratings.", examples=[187])
    reviews: List[ReviewModel] = Field(..., description="Written reviews, newest first.")


class ReviewResponse(BaseModel):
    review: ReviewModel = Field(..., description="The review.")


class ReviewCreateBody(BaseModel):
    rating: int = Field(..., ge=1, le=5, description="Star rating from 1 to 5.", examples=[5])
    comment: Optional[str] = Field(None, description="Review text.", examples=["Thorough, unhurried and genuinely kind."])


class PatientModel(BaseModel):
    id: int = Field(..., description="Patient profile ID.", examples=[2])
    account_user_id: int = Field(..., description="Owning account (always 1 for the logged-in user).", examples=[1])
    first_name: str = Field(..., description="First name.", examples=["Leo"])
    last_name: str = Field(..., description="Last name.", examples=["Thompson"])
    relationship: str = Field(..., description="Relationship to the account holder (self, child, spouse, parent, other).", examples=["child"])
    date_of_birth: date = Field(..., description="Date of birth.", examples=["2019-09-03"])
    sex: Optional[str] = Field(None, description="female, male or other.", examples=["male"])
    phone: Optional[str] = Field(None, description="Contact phone.", examples=["206-555-0142"])
    insurance_plan_id: Optional[int] = Field(None, description="Insurance plan ID on file.", examples=[2])
    insurance_plan_name: Optional[str] = Field(None, description="Insurance plan name on file.", examples=["Blue Cross Blue Shield BlueCard PPO"])
    insurance_member_id: Optional[str] = Field(None, description="Insurance member ID.", examples=["BCB448120574"])
    created_at: Optional[datetime] = Field(None, description="Creation timestamp.")
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp.")


class PatientListResponse(BaseModel):
    patients: List[PatientModel] = Field(..., description="Patient profiles managed by the account.")


class PatientResponse(BaseModel):
    patient: PatientModel = Field(..., description="Patient profile.")


class DependentCreateBody(BaseModel):
    first_name: str = Field(..., description="Dependent's first name.", examples=["Ava"])
    last_name: str = Field(..., description="Dependent's last name.", examples=["Thompson"])
    relationship: str = Field(..., description="child, spouse, parent or other.", examples=["child"])
    date_of_birth: date = Field(..., description="Date of birth (YYYY-MM-DD).", examples=["2022-03-14"])
    sex: Optional[str] = Field(None, description="female, male or other.", examples=["female"])
    phone: Optional[str] = Field(None, description="Contact phone.", examples=["206-555-0142"])
    insurance_plan_id: Optional[int] = Field(None, description="Insurance plan ID.", examples=[2])
    insurance_member_id: Optional[str] = Field(None, description="Insurance member ID.", examples=["BCB448120575"])


class PatientUpdateBody(BaseModel):
    first_name: Optional[str] = Field(None, description="New first name.", examples=["Maya"])
    last_name: Optional[str] = Field(None, description="New last name.", examples=["Thompson"])
    phone: Optional[str] = Field(None, description="New contact phone.", examples=["206-555-0142"])
    insurance_plan_id: Optional[int] = Field(None, description="New insurance plan ID.", examples=[3])
    insurance_member_id: Optional[str] = Field(None, description="New insurance member ID.", examples=["UHC884120"])


class AppointmentModel(BaseModel):
    id: int = Field(..., description="Appointment ID.", examples=[1])
    patient_id: int = Field(..., description="Patient profile ID.", examples=[1])
    patient_name: str = Field(..., description="Patient full name.", examples=["Maya Thompson"])
    practitioner_id: int = Field(..., description="Practitioner ID.", examples=[1])
    practitioner_name: str = Field(..., description="Practitioner name.", examples=["Dr. Priya Raman"])
    specialty_name: str = Field(..., description="Practitioner specialty.", examples=["Dermatology"])
    clinic_name: str = Field(..., description="Clinic name.", examples=["Lakeside Dermatology Group"])
    slot_id: int = Field(..., description="Booked slot ID.", examples=[1])
    start_time: datetime = Field(..., description="Appointment start.", examples=["2027-03-09T10:00:00"])
    end_time: datetime = Field(..., description="Appointment end.", examples=["2027-03-09T10:30:00"])
    visit_mode: str = Field(..., description="in_person or video.", examples=["in_person"])
    visit_reason_id: int = Field(..., description="Visit reason ID.", examples=[2])
    visit_reason_name: str = Field(..., description="Visit reason name.", examples=["Skin Cancer Screening"])
    status: str = Field(..., description="scheduled, completed, cancelled or no_show.", examples=["scheduled"])
    notes: Optional[str] = Field(None, description="Notes for the practitioner.", examples=["Mole on left shoulder has changed shape."])
    cancellation_reason: Optional[str] = Field(None, description="Reason given when cancelled.", examples=[None])
    cancelled_at: Optional[datetime] = Field(None, description="Cancellation timestamp.", examples=[None])
    created_at: Optional[datetime] = Field(None, description="Booking timestamp.")
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp.")


class AppointmentListResponse(BaseModel):
    appointments: List[AppointmentModel] = Field(..., description="Appointments ordered by start time.")


class AppointmentResponse(BaseModel):
    appointment: AppointmentModel = Field(..., description="Appointment details.")


class AppointmentCreateBody(BaseModel):
    patient_id: int = Field(..., description="Patient profile to book for (self or a dependent).", examples=[2])
    slot_id: int = Field(..., description="Available slot to book.", examples=[13])
    visit_reason_id: int = Field(..., description="Visit reason; must belong to the practitioner's specialty.", examples=[4])
    notes: Optional[str] = Field(None, description="Optional notes for the practitioner.", examples=["Bring vaccination record."])


class AppointmentRescheduleBody(BaseModel):
    new_slot_id: int = Field(..., description="Available slot of the same practitioner to move to.", examples=[5])


class AppointmentUpdateBody(BaseModel):
    visit_reason_id: Optional[int] = Field(None, description="New visit reason ID.", examples=[11])
    notes: Optional[str] = Field(None, description="New notes text (replaces existing notes).", examples=["Home readings have been around 150/95 this week."])


class AppointmentCancelBody(BaseModel):
    cancellation_reason: str = Field(..., description="Why the appointment is cancelled.", examples=["Schedule conflict"])


class StatusResponse(BaseModel):
    status: str = Field(..., description="Result status.", examples=["deleted"])
    id: int = Field(..., description="ID of the affected record.", examples=[8])


# ---------------------------------------------------------------------------
# Helpers that build response models
# ---------------------------------------------------------------------------


def practitioner_summary(session, p: Practitioner) -> PractitionerSummaryModel:
    specialty = session.query(Specialty).filter(Specialty.id == p.specialty_id).first()
    clinic = session.query(Clinic).filter(Clinic.id == p.clinic_id).first()
    return PractitionerSummaryModel(
        id=p.id,
        full_name=p.full_name,
        credential=p.credential,
        gender=p.gender,
        specialty_id=p.specialty_id,
        specialty_name=specialty.name if specialty else "",
        clinic_id=p.clinic_id,
        clinic_name=clinic.name if clinic else "",
        city=clinic.city if clinic else "",
        languages=split_languages(p.languages),
        years_experience=p.years_experience,
        accepts_new_patients=bool(p.accepts_new_patients),
        rating_avg=p.rating_avg,
        rating_count=p.rating_count or 0,
    )


def patient_model(session, pt: Patient) -> PatientModel:
    plan = None
    if pt.insurance_plan_id is not None:
        plan = session.query(InsurancePlan).filter(InsurancePlan.id == pt.insurance_plan_id).first()
    return PatientModel(
        id=pt.id,
        account_user_id=pt.account_user_id,
        first_name=pt.first_name,
        last_name=pt.last_name,
        relationship=pt.relationship,
        date_of_birth=pt.date_of_birth,
        sex=pt.sex,
        phone=pt.phone,
        insurance_plan_id=pt.insurance_plan_id,
        insurance_plan_name=plan.plan_name if plan else None,
        insurance_member_id=pt.insurance_member_id,
        created_at=pt.created_at,
        updated_at=pt.updated_at,
    )


def appointment_model(session, a: Appointment) -> AppointmentModel:
    pt = session.query(Patient).filter(Patient.id == a.patient_id).first()
    pr = session.query(Practitioner).filter(Practitioner.id == a.practitioner_id).first()
    sp = session.query(Specialty).filter(Specialty.id == pr.specialty_id).first() if pr else None
    cl = session.query(Clinic).filter(Clinic.id == pr.clinic_id).first() if pr else None
    sl = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == a.slot_id).first()
    vr = session.query(VisitReason).filter(VisitReason.id == a.visit_reason_id).first()
    return AppointmentModel(
        id=a.id,
        patient_id=a.patient_id,
        patient_name=f"{pt.first_name} {pt.last_name}" if pt else "",
        practitioner_id=a.practitioner_id,
        practitioner_name=pr.full_name if pr else "",
        specialty_name=sp.name if sp else "",
        clinic_name=cl.name if cl else "",
        slot_id=a.slot_id,
        start_time=sl.start_time,
        end_time=sl.end_time,
        visit_mode=sl.visit_mode,
        visit_reason_id=a.visit_reason_id,
        visit_reason_name=vr.name if vr else "",
        status=a.status,
        notes=a.notes,
        cancellation_reason=a.cancellation_reason,
        cancelled_at=a.cancelled_at,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def review_model(r: Review) -> ReviewModel:
    return ReviewModel(
        id=r.id,
        practitioner_id=r.practitioner_id,
        user_id=r.user_id,
        appointment_id=r.appointment_id,
        rating=r.rating,
        comment=r.comment,
        created_at=r.created_at,
    )


def get_owned_appointment(session, appointment_id: int, user_id: int) -> Appointment:
    a = (
        session.query(Appointment)
        .join(Patient, Appointment.patient_id == Patient.id)
        .filter(Appointment.id == appointment_id, Patient.account_user_id == user_id)
        .first()
    )
    if a is None:
        session.close()
        raise HTTPException(status_code=404, detail="Appointment not found")
    return a


def check_reason_fits_slot(session, reason: VisitReason, practitioner: Practitioner, slot: AvailabilitySlot) -> None:
    if reason.specialty_id != practitioner.specialty_id:
        session.close()
        raise HTTPException(status_code=400, detail="Visit reason does not match the practitioner's specialty")
    if slot.visit_mode == "video" and not reason.is_telehealth_eligible:
        session.close()
        raise HTTPException(status_code=400, detail="This visit reason requires an in-person slot")


# ---------------------------------------------------------------------------
# Directory: specialties, clinics, insurance plans, visit reasons
# ---------------------------------------------------------------------------


@app.get(
    "/api/specialties",
    response_model=SpecialtyListResponse,
    summary="List specialties",
    description="Return every medical specialty that can be searched on the platform.",
    tags=["directory"],
    operation_id="list_specialties",
)
async def list_specialties() -> SpecialtyListResponse:
    session = SessionLocal()
    rows = session.query(Specialty).order_by(Specialty.name.asc()).all()
    items = [SpecialtyModel.model_validate(s) for s in rows]
    session.close()
    return SpecialtyListResponse(specialties=items)


@app.get(
    "/api/clinics",
    response_model=ClinicListResponse,
    summary="Search clinics",
    description="List clinics, optionally filtered by city or by a partial clinic name.",
    tags=["directory"],
    operation_id="list_clinics",
)
async def list_clinics(
    city: Optional[str] = Query(None, description="Exact city name (case-insensitive).", examples=["Seattle"]),
    name: Optional[str] = Query(None, description="Partial clinic name.", examples=["Pediatrics"]),
) -> ClinicListResponse:
    session = SessionLocal()
    q = session.query(Clinic)
    if city:
        q = q.filter(func.lower(Clinic.city) == city.strip().lower())
    if name:
        q = q.filter(Clinic.name.ilike(f"%{name.strip()}%"))
    rows = q.order_by(Clinic.name.asc()).all()
    items = [ClinicModel.model_validate(c) for c in rows]
    session.close()
    return ClinicListResponse(clinics=items)


@app.get(
    "/api/insurance-plans",
    response_model=InsurancePlanListResponse,
    summary="List insurance plans",
    description="List insurance plans known to the platform, optionally filtered by carrier or coverage type.",
    tags=["insurance"],
    operation_id="list_insurance_plans",
)
async def list_insurance_plans(
    carrier: Optional[str] = Query(None, description="Partial carrier or plan name.", examples=["UnitedHealthcare"]),
    coverage_type: Optional[str] = Query(None, description="medical, dental or vision.", examples=["medical"]),
) -> InsurancePlanListResponse:
    session = SessionLocal()
    q = session.query(InsurancePlan)
    if carrier:
        term = f"%{carrier.strip()}%"
        q = q.filter((InsurancePlan.carrier.ilike(term)) | (InsurancePlan.plan_name.ilike(term)))
    if coverage_type:
        q = q.filter(InsurancePlan.coverage_type == coverage_type.strip().lower())
    rows = q.order_by(InsurancePlan.carrier.asc(), InsurancePlan.plan_name.asc()).all()
    items = [InsurancePlanModel.model_validate(p) for p in rows]
    session.close()
    return InsurancePlanListResponse(insurance_plans=items)


@app.get(
    "/api/visit-reasons",
    response_model=VisitReasonListResponse,
    summary="List visit reasons",
    description="List bookable visit reasons, optionally for one specialty or only those allowed as video visits.",
    tags=["directory"],
    operation_id="list_visit_reasons",
)
async def list_visit_reasons(
    specialty_id: Optional[int] = Query(None, description="Only reasons of this specialty.", examples=[2]),
    telehealth_only: bool = Query(False, description="Only reasons that can be booked as video visits.", examples=[False]),
) -> VisitReasonListResponse:
    session = SessionLocal()
    q = session.query(VisitReason, Specialty).join(Specialty, VisitReason.specialty_id == Specialty.id)
    if specialty_id is not None:
        q = q.filter(VisitReason.specialty_id == specialty_id)
    if telehealth_only:
        q = q.filter(VisitReason.is_telehealth_eligible == 1)
    rows = q.order_by(Specialty.name.asc(), VisitReason.name.asc()).all()
    items: List[VisitReasonModel] = []
    for vr, sp in rows:
        items.append(
            VisitReasonModel(
                id=vr.id,
                specialty_id=vr.specialty_id,
                specialty_name=sp.name,
                name=vr.name,
                duration_minutes=vr.duration_minutes,
                is_telehealth_eligible=bool(vr.is_telehealth_eligible),
            )
        )
    session.close()
    return VisitReasonListResponse(visit_reasons=items)


# ---------------------------------------------------------------------------
# Practitioners, availability and reviews
# ---------------------------------------------------------------------------


@app.get(
    "/api/practitioners",
    response_model=PractitionerSearchResponse,
    summary="Search practitioners",
    description="Search practitioners by name, specialty, clinic, city, accepted insurance, language and new-patient status, with sorting.",
    tags=["practitioners", "search"],
    operation_id="search_practitioners",
)
async def search_practitioners(
    name: Optional[str] = Query(None, description="Partial practitioner name.", examples=["Vasquez"]),
    specialty_id: Optional[int] = Query(None, description="Specialty ID filter.", examples=[4]),
    specialty: Optional[str] = Query(None, description="Specialty name filter (case-insensitive, partial).", examples=["Cardiology"]),
    clinic_id: Optional[int] = Query(None, description="Clinic ID filter.", examples=[4]),
    city: Optional[str] = Query(None, description="Clinic city filter.", examples=["Seattle"]),
    insurance_plan_id: Optional[int] = Query(None, description="Only practitioners accepting this insurance plan.", examples=[2]),
    language: Optional[str] = Query(None, description="Only practitioners speaking this language.", examples=["Spanish"]),
    gender: Optional[str] = Query(None, description="female, male or nonbinary.", examples=["female"]),
    accepts_new_patients: Optional[bool] = Query(None, description="Filter on accepting new patients.", examples=[True]),
    sort_by: str = Query("name", description="Sort key: name, rating, review_count, experience.", examples=["rating"]),
    limit: int = Query(20, ge=1, le=100, description="Maximum results.", examples=[20]),
    offset: int = Query(0, ge=0, description="Results to skip.", examples=[0]),
) -> PractitionerSearchResponse:
    session = SessionLocal()
    q = (
        session.query(Practitioner)
        .join(Specialty, Practitioner.specialty_id == Specialty.id)
        .join(Clinic, Practitioner.clinic_id == Clinic.id)
    )
    if name:
        q = q.filter(Practitioner.full_name.ilike(f"%{name.strip()}%"))
    if specialty_id is not None:
        q = q.filter(Practitioner.specialty_id == specialty_id)
    if specialty:
        q = q.filter(Specialty.name.ilike(f"%{specialty.strip()}%"))
    if clinic_id is not None:
        q = q.filter(Practitioner.clinic_id == clinic_id)
    if city:
        q = q.filter(func.lower(Clinic.city) == city.strip().lower())
    if insurance_plan_id is not None:
        q = q.join(PractitionerInsurancePlan, PractitionerInsurancePlan.practitioner_id == Practitioner.id).filter(
            PractitionerInsurancePlan.insurance_plan_id == insurance_plan_id
        )
    if language:
        q = q.filter(Practitioner.languages.ilike(f"%{language.strip()}%"))
    if gender:
        q = q.filter(Practitioner.gender == gender.strip().lower())
    if accepts_new_patients is not None:
        q = q.filter(Practitioner.accepts_new_patients == (1 if accepts_new_patients else 0))
    sort_key = (sort_by or "name").strip().lower()
    if sort_key == "rating":
        q = q.order_by(Practitioner.rating_avg.desc().nullslast(), Practitioner.rating_count.desc(), Practitioner.id.asc())
    elif sort_key == "review_count":
        q = q.order_by(Practitioner.rating_count.desc(), Practitioner.id.asc())
    elif sort_key == "experience":
        q = q.order_by(Practitioner.years_experience.desc().nullslast(), Practitioner.id.asc())
    elif sort_key == "name":
        q = q.order_by(Practitioner.full_name.asc())
    else:
        session.close()
        raise HTTPException(status_code=400, detail="sort_by must be one of name, rating, review_count, experience")
    total = q.count()
    rows = q.offset(offset).limit(limit).all()
    items = [practitioner_summary(session, p) for p in rows]
    session.close()
    return PractitionerSearchResponse(practitioners=items, total=total)


@app.get(
    "/api/practitioners/{practitioner_id}",
    response_model=PractitionerDetailResponse,
    summary="Get practitioner profile",
    description="Return a practitioner's full profile including clinic address and accepted insurance plans.",
    tags=["practitioners"],
    operation_id="get_practitioner",
)
async def get_practitioner(
    practitioner_id: int = Path(..., description="Practitioner ID.", examples=[3]),
) -> PractitionerDetailResponse:
    session = SessionLocal()
    p = session.query(Practitioner).filter(Practitioner.id == practitioner_id).first()
    if p is None:
        session.close()
        raise HTTPException(status_code=404, detail="Practitioner not found")
    summary = practitioner_summary(session, p)
    clinic = session.query(Clinic).filter(Clinic.id == p.clinic_id).first()
    plans = (
        session.query(InsurancePlan)
        .join(PractitionerInsurancePlan, PractitionerInsurancePlan.insurance_plan_id == InsurancePlan.id)
        .filter(PractitionerInsurancePlan.practitioner_id == p.id)
        .order_by(InsurancePlan.carrier.asc())
        .all()
    )
    detail = PractitionerDetailModel(
        **summary.model_dump(),
        bio=p.bio,
        clinic=ClinicModel.model_validate(clinic),
        insurance_plans=[InsurancePlanModel.model_validate(ip) for ip in plans],
    )
    session.close()
    return PractitionerDetailResponse(practitioner=detail)


@app.get(
    "/api/practitioners/{practitioner_id}/slots",
    response_model=SlotListResponse,
    summary="List a practitioner's appointment slots",
    description="List a practitioner's slots for one date or a date range, optionally by visit mode. Only available slots are returned unless status says otherwise.",
    tags=["availability"],
    operation_id="list_practitioner_slots",
)
async def list_practitioner_slots(
    practitioner_id: int = Path(..., description="Practitioner ID.", examples=[3]),
    date: Optional[str] = Query(None, description="Single day (YYYY-MM-DD).", examples=["2027-03-10"]),
    start_date: Optional[str] = Query(None, description="First day of a range (YYYY-MM-DD), inclusive.", examples=["2027-03-08"]),
    end_date: Optional[str] = Query(None, description="Last day of a range (YYYY-MM-DD), inclusive.", examples=["2027-03-12"]),
    visit_mode: Optional[str] = Query(None, description="in_person or video.", examples=["in_person"]),
    status: str = Query("available", description="available, booked, blocked or all.", examples=["available"]),
) -> SlotListResponse:
    session = SessionLocal()
    p = session.query(Practitioner).filter(Practitioner.id == practitioner_id).first()
    if p is None:
        session.close()
        raise HTTPException(status_code=404, detail="Practitioner not found")
    day = parse_day(date, "date")
    first_day = parse_day(start_date, "start_date")
    last_day = parse_day(end_date, "end_date")
    q = session.query(AvailabilitySlot).filter(AvailabilitySlot.practitioner_id == practitioner_id)
    if day:
        q = q.filter(func.date(AvailabilitySlot.start_time) == day)
    if first_day:
        q = q.filter(func.date(AvailabilitySlot.start_time) >= first_day)
    if last_day:
        q = q.filter(func.date(AvailabilitySlot.start_time) <= last_day)
    if visit_mode:
        mode = visit_mode.strip().lower()
        if mode not in ("in_person", "video"):
            session.close()
            raise HTTPException(status_code=400, detail="visit_mode must be in_person or video")
        q = q.filter(AvailabilitySlot.visit_mode == mode)
    status_key = (status or "available").strip().lower()
    if status_key not in ("available", "booked", "blocked", "all"):
        session.close()
        raise HTTPException(status_code=400, detail="status must be available, booked, blocked or all")
    if status_key != "all":
        q = q.filter(AvailabilitySlot.status == status_key)
    rows = q.order_by(AvailabilitySlot.start_time.asc()).all()
    items = [
        SlotModel(
            id=s.id,
            practitioner_id=s.practitioner_id,
            start_time=s.start_time,
            end_time=s.end_time,
            visit_mode=s.visit_mode,
            status=s.status,
        )
        for s in rows
    ]
    session.close()
    return SlotListResponse(practitioner_id=practitioner_id, slots=items)


@app.get(
    "/api/practitioners/{practitioner_id}/reviews",
    response_model=ReviewListResponse,
    summary="List reviews of a practitioner",
    description="Return a practitioner's rating summary and written reviews, newest first.",
    tags=["reviews", "practitioners"],
    operation_id="list_practitioner_reviews",
)
async def list_practitioner_reviews(
    practitioner_id: int = Path(..., description="Practitioner ID.", examples=[5]),
    limit: int = Query(20, ge=1, le=100, description="Maximum reviews to return.", examples=[20]),
    offset: int = Query(0, ge=0, description="Reviews to skip.", examples=[0]),
) -> ReviewListResponse:
    session = SessionLocal()
    p = session.query(Practitioner).filter(Practitioner.id == practitioner_id).first()
    if p is None:
        session.close()
        raise HTTPException(status_code=404, detail="Practitioner not found")
    rows = (
        session.query(Review)
        .filter(Review.practitioner_id == practitioner_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .offset(offset)
        .limit(limit)
        .all()
    )
    items = [review_model(r) for r in rows]
    result = ReviewListResponse(practitioner_id=p.id, rating_avg=p.rating_avg, rating_count=p.rating_count or 0, reviews=items)
    session.close()
    return result


# ---------------------------------------------------------------------------
# My patient profiles (self and dependents)
# ---------------------------------------------------------------------------


@app.get(
    "/api/me/patients",
    response_model=PatientListResponse,
    summary="List my patient profiles",
    description="Return the logged-in user's own patient profile and those of dependents (children, spouse, ...), with insurance on file.",
    tags=["patients"],
    operation_id="list_my_patients",
)
async def list_my_patients() -> PatientListResponse:
    session = SessionLocal()
    user_id = 1
    rows = session.query(Patient).filter(Patient.account_user_id == user_id).order_by(Patient.id.asc()).all()
    items = [patient_model(session, pt) for pt in rows]
    session.close()
    return PatientListResponse(patients=items)


@app.post(
    "/api/me/patients",
    response_model=PatientResponse,
    summary="Add a dependent",
    description="Create a new dependent patient profile (child, spouse, parent or other) under the logged-in account.",
    tags=["patients"],
    operation_id="add_dependent",
)
async def add_dependent(
    body: DependentCreateBody = Body(..., description="Dependent profile to create."),
) -> PatientResponse:
    session = SessionLocal()
    user_id = 1
    relationship = body.relationship.strip().lower()
    if relationship not in ("child", "spouse", "parent", "other"):
        session.close()
        raise HTTPException(status_code=400, detail="relationship must be child, spouse, parent or other")
    sex = body.sex.strip().lower() if body.sex else None
    if sex is not None and sex not in ("female", "male", "other"):
        session.close()
        raise HTTPException(status_code=400, detail="sex must be female, male or other")
    if body.insurance_plan_id is not None:
        plan = session.query(InsurancePlan).filter(InsurancePlan.id == body.insurance_plan_id).first()
        if plan is None:
            session.close()
            raise HTTPException(status_code=404, detail="Insurance plan not found")
    now = now_utc()
    pt = Patient(
        account_user_id=user_id,
        first_name=body.first_name.strip(),
        last_name=body.last_name.strip(),
        relationship=relationship,
        date_of_birth=body.date_of_birth,
        sex=sex,
        phone=body.phone,
        insurance_plan_id=body.insurance_plan_id,
        insurance_member_id=body.insurance_member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(pt)
    session.commit()
    result = patient_model(session, pt)
    session.close()
    return PatientResponse(patient=result)


@app.patch(
    "/api/me/patients/{patient_id}",
    response_model=PatientResponse,
    summary="Update a patient profile",
    description="Update name, phone or insurance (plan and member ID) of one of my patient profiles. Only provided fields change.",
    tags=["patients", "insurance"],
    operation_id="update_patient_profile",
)
async def update_patient_profile(
    patient_id: int = Path(..., description="Patient profile ID (self or dependent).", examples=[1]),
    body: PatientUpdateBody = Body(..., description="Fields to update."),
) -> PatientResponse:
    session = SessionLocal()
    user_id = 1
    pt = session.query(Patient).filter(Patient.id == patient_id, Patient.account_user_id == user_id).first()
    if pt is None:
        session.close()
        raise HTTPException(status_code=404, detail="Patient profile not found")
    if body.insurance_plan_id is not None:
        plan = session.query(InsurancePlan).filter(InsurancePlan.id == body.insurance_plan_id).first()
        if plan is None:
            session.close()
            raise HTTPException(status_code=404, detail="Insurance plan not found")
        pt.insurance_plan_id = body.insurance_plan_id
    if body.insurance_member_id is not None:
        pt.insurance_member_id = body.insurance_member_id.strip()
    if body.first_name is not None:
        pt.first_name = body.first_name.strip()
    if body.last_name is not None:
        pt.last_name = body.last_name.strip()
    if body.phone is not None:
        pt.phone = body.phone.strip()
    pt.updated_at = now_utc()
    session.commit()
    result = patient_model(session, pt)
    session.close()
    return PatientResponse(patient=result)


# ---------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------


@app.get(
    "/api/me/appointments",
    response_model=AppointmentListResponse,
    summary="List my appointments",
    description="List appointments of all my patient profiles, filterable by patient, practitioner, status and date; ordered by start time.",
    tags=["appointments"],
    operation_id="list_my_appointments",
)
async def list_my_appointments(
    patient_id: Optional[int] = Query(None, description="Only this patient profile.", examples=[1]),
    practitioner_id: Optional[int] = Query(None, description="Only this practitioner.", examples=[5]),
    status: Optional[str] = Query(None, description="scheduled, completed, cancelled or no_show.", examples=["scheduled"]),
    date: Optional[str] = Query(None, description="Only appointments on this day (YYYY-MM-DD).", examples=["2027-03-12"]),
    start_date: Optional[str] = Query(None, description="Range start day (YYYY-MM-DD), inclusive.", examples=["2027-03-08"]),
    end_date: Optional[str] = Query(None, description="Range end day (YYYY-MM-DD), inclusive.", examples=["2027-03-12"]),
) -> AppointmentListResponse:
    session = SessionLocal()
    user_id = 1
    day = parse_day(date, "date")
    first_day = parse_day(start_date, "start_date")
    last_day = parse_day(end_date, "end_date")
    q = (
        session.query(Appointment)
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(AvailabilitySlot, Appointment.slot_id == AvailabilitySlot.id)
        .filter(Patient.account_user_id == user_id)
    )
    if patient_id is not None:
        q = q.filter(Appointment.patient_id == patient_id)
    if practitioner_id is not None:
        q = q.filter(Appointment.practitioner_id == practitioner_id)
    if status:
        q = q.filter(Appointment.status == status.strip().lower())
    if day:
        q = q.filter(func.date(AvailabilitySlot.start_time) == day)
    if first_day:
        q = q.filter(func.date(AvailabilitySlot.start_time) >= first_day)
    if last_day:
        q = q.filter(func.date(AvailabilitySlot.start_time) <= last_day)
    rows = q.order_by(AvailabilitySlot.start_time.asc(), Appointment.id.asc()).all()
    items = [appointment_model(session, a) for a in rows]
    session.close()
    return AppointmentListResponse(appointments=items)


@app.get(
    "/api/appointments/{appointment_id}",
    response_model=AppointmentResponse,
    summary="Get an appointment",
    description="Return one appointment of my patient profiles with practitioner, clinic, time and visit reason.",
    tags=["appointments"],
    operation_id="get_appointment",
)
async def get_appointment(
    appointment_id: int = Path(..., description="Appointment ID.", examples=[1]),
) -> AppointmentResponse:
    session = SessionLocal()
    user_id = 1
    a = get_owned_appointment(session, appointment_id, user_id)
    result = appointment_model(session, a)
    session.close()
    return AppointmentResponse(appointment=result)


@app.post(
    "/api/appointments",
    response_model=AppointmentResponse,
    summary="Book an appointment",
    description="Book an available slot for one of my patient profiles with a visit reason of the practitioner's specialty. The slot becomes booked. Video slots require a telehealth-eligible reason.",
    tags=["appointments", "booking"],
    operation_id="book_appointment",
)
async def book_appointment(
    body: AppointmentCreateBody = Body(..., description="Booking request."),
) -> AppointmentResponse:
    session = SessionLocal()
    user_id = 1
    pt = session.query(Patient).filter(Patient.id == body.patient_id, Patient.account_user_id == user_id).first()
    if pt is None:
        session.close()
        raise HTTPException(status_code=404, detail="Patient profile not found")
    slot = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == body.slot_id).first()
    if slot is None:
        session.close()
        raise HTTPException(status_code=404, detail="Slot not found")
    if slot.status != "available":
        session.close()
        raise HTTPException(status_code=409, detail=f"Slot is not available (status: {slot.status})")
    reason = session.query(VisitReason).filter(VisitReason.id == body.visit_reason_id).first()
    if reason is None:
        session.close()
        raise HTTPException(status_code=404, detail="Visit reason not found")
    pr = session.query(Practitioner).filter(Practitioner.id == slot.practitioner_id).first()
    check_reason_fits_slot(session, reason, pr, slot)
    if not pr.accepts_new_patients:
        prior = (
            session.query(Appointment)
            .filter(
                Appointment.patient_id == pt.id,
                Appointment.practitioner_id == pr.id,
                Appointment.status.in_(["scheduled", "completed"]),
            )
            .first()
        )
        if prior is None:
            session.close()
            raise HTTPException(status_code=400, detail="This practitioner is not accepting new patients")
    clash = (
        session.query(Appointment)
        .join(AvailabilitySlot, Appointment.slot_id == AvailabilitySlot.id)
        .filter(
            Appointment.patient_id == pt.id,
            Appointment.status == "scheduled",
            AvailabilitySlot.start_time == slot.start_time,
        )
        .first()
    )
    if clash is not None:
        session.close()
        raise HTTPException(status_code=409, detail="Patient already has an appointment at this time")
    now = now_utc()
    a = Appointment(
        patient_id=pt.id,
        practitioner_id=pr.id,
        slot_id=slot.id,
        visit_reason_id=reason.id,
        booked_by_user_id=user_id,
        status="scheduled",
        notes=body.notes,
        created_at=now,
        updated_at=now,
    )
    slot.status = "booked"
    slot.updated_at = now
    session.add(a)
    session.commit()
    result = appointment_model(session, a)
    session.close()
    return AppointmentResponse(appointment=result)


@app.put(
    "/api/appointments/{appointment_id}/reschedule",
    response_model=AppointmentResponse,
    summary="Reschedule an appointment",
    description="Move a scheduled appointment to another available slot of the same practitioner. The old slot becomes available again and the new slot becomes booked.",
    tags=["appointments", "booking"],
    operation_id="reschedule_appointment",
)
async def reschedule_appointment(
    appointment_id: int = Path(..., description="Appointment ID to move.", examples=[1]),
    body: AppointmentRescheduleBody = Body(..., description="Target slot."),
) -> AppointmentResponse:
    session = SessionLocal()
    user_id = 1
    a = get_owned_appointment(session, appointment_id, user_id)
    if a.status != "scheduled":
        session.close()
        raise HTTPException(status_code=400, detail=f"Only scheduled appointments can be rescheduled (status: {a.status})")
    if body.new_slot_id == a.slot_id:
        session.close()
        raise HTTPException(status_code=400, detail="The appointment is already in this slot")
    new_slot = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == body.new_slot_id).first()
    if new_slot is None:
        session.close()
        raise HTTPException(status_code=404, detail="Slot not found")
    if new_slot.practitioner_id != a.practitioner_id:
        session.close()
        raise HTTPException(status_code=400, detail="The new slot belongs to a different practitioner; cancel and book instead")
    if new_slot.status != "available":
        session.close()
        raise HTTPException(status_code=409, detail=f"Slot is not available (status: {new_slot.status})")
    reason = session.query(VisitReason).filter(VisitReason.id == a.visit_reason_id).first()
    pr = session.query(Practitioner).filter(Practitioner.id == a.practitioner_id).first()
    check_reason_fits_slot(session, reason, pr, new_slot)
    now = now_utc()
    old_slot = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == a.slot_id).first()
    if old_slot is not None:
        old_slot.status = "available"
        old_slot.updated_at = now
    new_slot.status = "booked"
    new_slot.updated_at = now
    a.slot_id = new_slot.id
    a.updated_at = now
    session.commit()
    result = appointment_model(session, a)
    session.close()
    return AppointmentResponse(appointment=result)


@app.patch(
    "/api/appointments/{appointment_id}",
    response_model=AppointmentResponse,
    summary="Update appointment details",
    description="Change the visit reason and/or notes of a scheduled appointment. The reason must match the practitioner's specialty and the slot's visit mode.",
    tags=["appointments"],
    operation_id="update_appointment_details",
)
async def update_appointment_details(
    appointment_id: int = Path(..., description="Appointment ID.", examples=[13]),
    body: AppointmentUpdateBody = Body(..., description="Fields to update."),
) -> AppointmentResponse:
    session = SessionLocal()
    user_id = 1
    a = get_owned_appointment(session, appointment_id, user_id)
    if a.status != "scheduled":
        session.close()
        raise HTTPException(status_code=400, detail=f"Only scheduled appointments can be changed (status: {a.status})")
    if body.visit_reason_id is None and body.notes is None:
        session.close()
        raise HTTPException(status_code=400, detail="Provide visit_reason_id and/or notes")
    if body.visit_reason_id is not None:
        reason = session.query(VisitReason).filter(VisitReason.id == body.visit_reason_id).first()
        if reason is None:
            session.close()
            raise HTTPException(status_code=404, detail="Visit reason not found")
        pr = session.query(Practitioner).filter(Practitioner.id == a.practitioner_id).first()
        slot = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == a.slot_id).first()
        check_reason_fits_slot(session, reason, pr, slot)
        a.visit_reason_id = reason.id
    if body.notes is not None:
        a.notes = body.notes
    a.updated_at = now_utc()
    session.commit()
    result = appointment_model(session, a)
    session.close()
    return AppointmentResponse(appointment=result)


@app.post(
    "/api/appointments/{appointment_id}/cancel",
    response_model=AppointmentResponse,
    summary="Cancel an appointment",
    description="Cancel a scheduled appointment with a reason. The slot becomes available to other patients.",
    tags=["appointments", "booking"],
    operation_id="cancel_appointment",
)
async def cancel_appointment(
    appointment_id: int = Path(..., description="Appointment ID to cancel.", examples=[8]),
    body: AppointmentCancelBody = Body(..., description="Cancellation details."),
) -> AppointmentResponse:
    session = SessionLocal()
    user_id = 1
    a = get_owned_appointment(session, appointment_id, user_id)
    if a.status != "scheduled":
        session.close()
        raise HTTPException(status_code=400, detail=f"Only scheduled appointments can be cancelled (status: {a.status})")
    now = now_utc()
    a.status = "cancelled"
    a.cancellation_reason = body.cancellation_reason.strip()
    a.cancelled_at = now
    a.updated_at = now
    slot = session.query(AvailabilitySlot).filter(AvailabilitySlot.id == a.slot_id).first()
    if slot is not None and slot.status == "booked":
        slot.status = "available"
        slot.updated_at = now
    session.commit()
    result = appointment_model(session, a)
    session.close()
    return AppointmentResponse(appointment=result)


# ---------------------------------------------------------------------------
# My reviews
# ---------------------------------------------------------------------------


@app.post(
    "/api/appointments/{appointment_id}/review",
    response_model=ReviewResponse,
    summary="Review a completed appointment",
    description="Write a 1-5 star review of the practitioner for one of my completed appointments. One review per appointment; the practitioner's rating summary is updated.",
    tags=["reviews"],
    operation_id="create_review",
)
async def create_review(
    appointment_id: int = Path(..., description="Completed appointment ID.", examples=[7]),
    body: ReviewCreateBody = Body(..., description="Review content."),
) -> ReviewResponse:
    session = SessionLocal()
    user_id = 1
    a = get_owned_appointment(session, appointment_id, user_id)
    if a.status != "completed":
        session.close()
        raise HTTPException(status_code=400, detail="Only completed appointments can be reviewed")
    existing = session.query(Review).filter(Review.appointment_id == a.id).first()
    if existing is not None:
        session.close()
        raise HTTPException(status_code=409, detail=f"This appointment already has a review (id {existing.id})")
    pr = session.query(Practitioner).filter(Practitioner.id == a.practitioner_id).first()
    now = now_utc()
    r = Review(
        practitioner_id=a.practitioner_id,
        user_id=user_id,
        appointment_id=a.id,
        rating=body.rating,
        comment=body.comment,
        created_at=now,
        updated_at=now,
    )
    count = pr.rating_count or 0
    avg = pr.rating_avg or 0.0
    pr.rating_avg = round((avg * count + body.rating) / (count + 1), 2)
    pr.rating_count = count + 1
    pr.updated_at = now
    session.add(r)
    session.commit()
    result = review_model(r)
    session.close()
    return ReviewResponse(review=result)


@app.delete(
    "/api/reviews/{review_id}",
    response_model=StatusResponse,
    summary="Delete my review",
    description="Delete one of my own reviews; the practitioner's rating summary is updated.",
    tags=["reviews"],
    operation_id="delete_review",
)
async def delete_review(
    review_id: int = Path(..., description="Review ID to delete.", examples=[1]),
) -> StatusResponse:
    session = SessionLocal()
    user_id = 1
    r = session.query(Review).filter(Review.id == review_id, Review.user_id == user_id).first()
    if r is None:
        session.close()
        raise HTTPException(status_code=404, detail="Review not found")
    pr = session.query(Practitioner).filter(Practitioner.id == r.practitioner_id).first()
    if pr is not None:
        count = pr.rating_count or 0
        if count > 1 and pr.rating_avg is not None:
            remaining = (pr.rating_avg * count - r.rating) / (count - 1)
            pr.rating_avg = round(min(5.0, max(1.0, remaining)), 2)
            pr.rating_count = count - 1
        else:
            pr.rating_avg = None
            pr.rating_count = 0
        pr.updated_at = now_utc()
    session.delete(r)
    session.commit()
    session.close()
    return StatusResponse(status="deleted", id=review_id)


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
