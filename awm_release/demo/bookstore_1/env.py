from fastapi import FastAPI, HTTPException, Query, Path, Body
from pydantic import BaseModel, Field, ConfigDict
from typing import Optional, List, Dict, Tuple
from sqlalchemy import (
    create_engine,
    Column,
    Integer,
    String,
    Text,
    Float,
    DateTime,
    ForeignKey,
    func,
    or_,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime, timezone
import os

database_url = os.getenv("DATABASE_PATH", "sqlite:///outputs/databases/bookstore_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()

BOOK_FORMATS = ("hardcover", "paperback", "ebook")
ORDER_STATUSES = ("placed", "shipped", "cancelled")
FREE_SHIPPING_THRESHOLD = 50.00
STANDARD_SHIPPING_FEE = 4.99


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String, nullable=False)
    created_at = Column(DateTime)


class Genre(Base):
    __tablename__ = "genres"
    id = Column(Integer, primary_key=True)
    name = Column(String, unique=True, nullable=False)
    description = Column(Text)


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    bio = Column(Text)
    birth_year = Column(Integer)
    created_at = Column(DateTime)


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    title = Column(String, nullable=False)
    author_id = Column(Integer, ForeignKey("authors.id"), nullable=False)
    genre_id = Column(Integer, ForeignKey("genres.id"), nullable=False)
    publisher = Column(String)
    publication_year = Column(Integer)
    page_count = Column(Integer)
    description = Column(Text)
    created_at = Column(DateTime)


class BookEdition(Base):
    __tablename__ = "book_editions"
    id = Column(Integer, primary_key=True)
    book_id = Column(Integer, ForeignKey("books.id", ondelete="CASCADE"), nullable=False)
    format = Column(String, nullable=False)
    isbn = Column(String, unique=True, nullable=False)
    price = Column(Float, nullable=False)
    stock_quantity = Column(Integer)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


class ShippingAddress(Base):
    __tablename__ = "shipping_addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    label = Column(String, nullable=False)
    recipient_name = Column(String, nullable=False)
    line1 = Column(String, nullable=False)
    line2 = Column(String)
    city = Column(String, nullable=False)
    state = Column(String, nullable=False)
    postal_code = Column(String, nullable=False)
    country = Column(String, nullable=False, default="US")
    is_default = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime)


class PromoCode(Base):
    __tablename__ = "promo_codes"
    id = Column(Integer, primary_key=True)
    code = Column(String, unique=True, nullable=False)
    description = Column(Text)
    discount_type = Column(String, nullable=False)
    discount_value = Column(Float, nullable=False)
    min_subtotal = Column(Float, nullable=False, default=0)
    valid_from = Column(DateTime, nullable=False)
    valid_until = Column(DateTime)
    is_active = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime)


class CartItem(Base):
    __tablename__ = "cart_items"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    edition_id = Column(Integer, ForeignKey("book_editions.id", ondelete="CASCADE"), nullable=False)
    quantity = Column(Integer, nullable=False)
    added_at = Column(DateTime)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    shipping_address_id = Column(Integer, ForeignKey("shipping_addresses.id"), nullable=False)
    promo_code_id = Column(Integer, ForeignKey("promo_codes.id", ondelete="SET NULL"))
    status = Column(String, nullable=False, default="placed")
    subtotal = Column(Float, nullable=False)
    discount_amount = Column(Float, nullable=False, default=0)
    shipping_fee = Column(Float, nullable=False, default=0)
    total = Column(Float, nullable=False)
    cancel_reason = Column(Text)
    placed_at = Column(DateTime)
    shipped_at = Column(DateTime)
    cancelled_at = Column(DateTime)
    updated_at = Column(DateTime)


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    edition_id = Column(Integer, ForeignKey("book_editions.id"), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Float, nullable=False)


class WishlistItem(Base):
    __tablename__ = "wishlist_items"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    book_id = Column(Integer, ForeignKey("books.id", ondelete="CASCADE"), nullable=False)
    preferred_format = Column(String)
    note = Column(Text)
    added_at = Column(DateTime)


class Review(Base):
    __tablename__ = "reviews"
    id = Column(Integer, primary_key=True)
    book_id = Column(Integer, ForeignKey("books.id", ondelete="CASCADE"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    rating = Column(Integer, nullable=False)
    title = Column(String, nullable=False)
    review_text = Column(Text)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


app = FastAPI(
    title="Larkspur Books API",
    version="1.0.0",
    description="Online independent bookstore: browse the catalog, manage cart, orders, wish list, reviews and addresses.",
)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def money(value: float) -> float:
    return round(float(value) + 1e-9, 2)


def edition_in_stock(edition: BookEdition, quantity: int = 1) -> bool:
    return edition.stock_quantity is None or edition.stock_quantity >= quantity


def stock_error(edition: BookEdition) -> str:
    if not edition.stock_quantity:
        return "This edition is out of stock"
    copies = "copy" if edition.stock_quantity == 1 else "copies"
    return f"Only {edition.stock_quantity} {copies} of this edition in stock"


def rating_summary(session, book_ids: List[int]) -> Dict[int, Tuple[Optional[float], int]]:
    summary: Dict[int, Tuple[Optional[float], int]] = {bid: (None, 0) for bid in book_ids}
    if not book_ids:
        return summary
    rows = (
        session.query(Review.book_id, func.avg(Review.rating), func.count(Review.id))
        .filter(Review.book_id.in_(book_ids))
        .group_by(Review.book_id)
        .all()
    )
    for book_id, avg_rating, count in rows:
        summary[book_id] = (round(float(avg_rating), 2), int(count))
    return summary


class EditionModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Edition ID; use it to add this format to the cart.", examples=[2])
    book_id: int = Field(..., description="ID of the book this edition belongs to.", examples=[1])
    format: str = Field(..., description="Edition format: hardcover, paperback or ebook.", examples=["paperback"])
    isbn: str = Field(..., description="ISBN-13 of the edition.", examples=["9780441478126"])
    price: float = Field(..., description="Current price in USD.", examples=[16.99])
    stock_quantity: Optional[int] = Field(None, description="Copies in stock; null for ebooks, which never sell out.", examples=[9])
    in_stock: bool = Field(..., description="True if at least one copy can be bought now.", examples=[True])


class BookSummaryModel(BaseModel):
    id: int = Field(..., description="Book ID.", examples=[1])
    title: str = Field(..., description="Book title.", examples=["The Left Hand of Darkness"])
    author_id: int = Field(..., description="Author ID.", examples=[1])
    author_name: str = Field(..., description="Author name.", examples=["Ursula K. Le Guin"])
    genre_id: int = Field(..., description="Genre ID.", examples=[2])
    genre_name: str = Field(..., description="Genre name.", examples=["Science Fiction"])
    publication_year: Optional[int] = Field(None, description="Year of first publication.", examples=[1969])
    average_rating: Optional[float] = Field(None, description="Average customer rating (1-5), null if not yet reviewed.", examples=[4.5])
    review_count: int = Field(..., description="Number of customer reviews.", examples=[2])
    lowest_price: Optional[float] = Field(None, description="Lowest price among the editions listed for this result.", examples=[9.99])
    editions: List[EditionModel] = Field(..., description="Editions matching the format, stock and price filters.", examples=[[]])


class BookSearchResponse(BaseModel):
    books: List[BookSummaryModel] = Field(..., description="Matching books for the requested page.", examples=[[]])
    total: int = Field(..., description="Number of matching books before pagination.", examples=[3])


class AuthorModel(BaseModel):
    id: int = Field(..., description="Author ID.", examples=[1])
    name: str = Field(..., description="Author name.", examples=["Ursula K. Le Guin"])
    bio: Optional[str] = Field(None, description="Short biography.", examples=["American author of speculative fiction."])
    birth_year: Optional[int] = Field(None, description="Year of birth.", examples=[1929])


class BookDetailModel(BaseModel):
    id: int = Field(..., description="Book ID.", examples=[1])
    title: str = Field(..., description="Book title.", examples=["The Left Hand of Darkness"])
    author: AuthorModel = Field(..., description="Author of the book.")
    genre_id: int = Field(..., description="Genre ID.", examples=[2])
    genre_name: str = Field(..., description="Genre name.", examples=["Science Fiction"])
    publisher: Optional[str] = Field(None, description="Publisher.", examples=["Ace"])
    publication_year: Optional[int] = Field(None, description="Year of first publication.", examples=[1969])
    page_count: Optional[int] = Field(None, description="Number of pages of the print edition.", examples=[304])
    description: Optional[str] = Field(None, description="Short description of the book.", examples=["An envoy travels to the icy planet Gethen."])
    average_rating: Optional[float] = Field(None, description="Average customer rating (1-5), null if not yet reviewed.", examples=[5.0])
    review_count: int = Field(..., description="Number of customer reviews.", examples=[1])
    editions: List[EditionModel] = Field(..., description="All editions (formats) of this book with price and stock.", examples=[[]])


class BookDetailResponse(BaseModel):
    book: BookDetailModel = Field(..., description="Book details with author and editions.")


class GenreModel(BaseModel):
    id: int = Field(..., description="Genre ID.", examples=[3])
    name: str = Field(..., description="Genre name.", examples=["Fantasy"])
    description: Optional[str] = Field(None, description="Short description of the genre shelf.", examples=["Magic, myth and secondary worlds."])
    book_count: int = Field(..., description="Number of books in this genre.", examples=[5])


class GenreListResponse(BaseModel):
    genres: List[GenreModel] = Field(..., description="All genres, alphabetically.", examples=[[]])


class ReviewModel(BaseModel):
    id: int = Field(..., description="Review ID.", examples=[5])
    book_id: int = Field(..., description="Reviewed book ID.", examples=[6])
    book_title: str = Field(..., description="Reviewed book title.", examples=["Project Hail Mary"])
    user_id: int = Field(..., description="ID of the reviewer.", examples=[1])
    reviewer_name: str = Field(..., description="Display name of the reviewer.", examples=["Jordan Avery"])
    is_mine: bool = Field(..., description="True if the logged-in user wrote this review.", examples=[True])
    rating: int = Field(..., description="Star rating from 1 to 5.", examples=[4])
    title: str = Field(..., description="Review headline.", examples=["Fun, but exhausting"])
    review_text: Optional[str] = Field(None, description="Review body text.", examples=["Great premise, but long science explanations."])
    created_at: Optional[datetime] = Field(None, description="When the review was posted (ISO 8601).", examples=["2025-03-01T10:00:00"])
    updated_at: Optional[datetime] = Field(None, description="When the review was last edited (ISO 8601).", examples=["2025-03-02T10:00:00"])


class ReviewListResponse(BaseModel):
    book_id: int = Field(..., description="Book ID.", examples=[10])
    book_title: str = Field(..., description="Book title.", examples=["The Overstory"])
    average_rating: Optional[float] = Field(None, description="Average rating over all reviews of the book.", examples=[4.25])
    review_count: int = Field(..., description="Total number of reviews of the book.", examples=[4])
    reviews: List[ReviewModel] = Field(..., description="Reviews in the requested order.", examples=[[]])


class ReviewCreateBody(BaseModel):
    rating: int = Field(..., ge=1, le=5, description="Star rating from 1 to 5.", examples=[5])
    title: str = Field(..., min_length=1, description="Review headline.", examples=["A gift of a book"])
    review_text: Optional[str] = Field(None, description="Review body text.", examples=["Every essay reads like a small gift."])


class ReviewUpdateBody(BaseModel):
    rating: Optional[int] = Field(None, ge=1, le=5, description="New star rating from 1 to 5; omit to keep.", examples=[4])
    title: Optional[str] = Field(None, min_length=1, description="New headline; omit to keep.", examples=["Fun, and worth it"])
    review_text: Optional[str] = Field(None, description="New body text; omit to keep.", examples=["Great premise and a wonderful friendship."])


class ReviewResponse(BaseModel):
    review: ReviewModel = Field(..., description="The created or updated review.")


class CartItemModel(BaseModel):
    cart_item_id: int = Field(..., description="Cart line ID.", examples=[1])
    edition_id: int = Field(..., description="Edition ID in the cart.", examples=[23])
    book_id: int = Field(..., description="Book ID.", examples=[11])
    title: str = Field(..., description="Book title.", examples=["Tomorrow, and Tomorrow, and Tomorrow"])
    author_name: str = Field(..., description="Author name.", examples=["Gabrielle Zevin"])
    format: str = Field(..., description="Edition format.", examples=["hardcover"])
    unit_price: float = Field(..., description="Current price per copy in USD.", examples=[28.0])
    quantity: int = Field(..., description="Number of copies.", examples=[1])
    line_total: float = Field(..., description="unit_price x quantity.", examples=[28.0])
    in_stock: bool = Field(..., description="True if the requested quantity is currently available.", examples=[True])
    added_at: Optional[datetime] = Field(None, description="When the line was added (ISO 8601).", examples=["2025-03-01T10:00:00"])


class CartResponse(BaseModel):
    items: List[CartItemModel] = Field(..., description="Lines in the cart.", examples=[[]])
    item_count: int = Field(..., description="Total number of copies in the cart.", examples=[3])
    subtotal: float = Field(..., description="Sum of line totals in USD, before discounts and shipping.", examples=[62.0])


class CartItemCreateBody(BaseModel):
    edition_id: int = Field(..., description="Edition (specific format of a book) to add.", examples=[2])
    quantity: int = Field(1, ge=1, description="Copies to add; added to any quantity already in the cart.", examples=[2])


class CartItemUpdateBody(BaseModel):
    quantity: int = Field(..., ge=1, description="New number of copies for this cart line.", examples=[1])


class CartItemResponse(BaseModel):
    item: CartItemModel = Field(..., description="The cart line after the change.")


class StatusResponse(BaseModel):
    status: str = Field(..., description="Result of the operation.", examples=["removed"])
    id: int = Field(..., description="ID of the affected record.", examples=[2])


class AddressModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Address ID.", examples=[1])
    label: str = Field(..., description="Short name of the address.", examples=["Home"])
    recipient_name: str = Field(..., description="Name of the recipient.", examples=["Jordan Avery"])
    line1: str = Field(..., description="Street address.", examples=["2215 SE Clinton St"])
    line2: Optional[str] = Field(None, description="Apartment, suite, etc.", examples=["Suite 400"])
    city: str = Field(..., description="City.", examples=["Portland"])
    state: str = Field(..., description="State or region code.", examples=["OR"])
    postal_code: str = Field(..., description="ZIP or postal code.", examples=["97202"])
    country: str = Field(..., description="ISO country code.", examples=["US"])
    is_default: bool = Field(..., description="True for the default shipping address.", examples=[True])
    created_at: Optional[datetime] = Field(None, description="When the address was saved (ISO 8601).", examples=["2024-01-01T09:00:00"])


class AddressListResponse(BaseModel):
    addresses: List[AddressModel] = Field(..., description="Saved shipping addresses, default first.", examples=[[]])


class AddressCreateBody(BaseModel):
    label: str = Field(..., min_length=1, description="Short name such as Home, Work or Cabin.", examples=["Cabin"])
    recipient_name: str = Field(..., min_length=1, description="Name of the recipient.", examples=["Jordan Avery"])
    line1: str = Field(..., min_length=1, description="Street address.", examples=["48 Pine Ridge Road"])
    line2: Optional[str] = Field(None, description="Apartment, suite, etc.; omit if none.", examples=["Unit B"])
    city: str = Field(..., min_length=1, description="City.", examples=["Bend"])
    state: str = Field(..., min_length=1, description="State or region code.", examples=["OR"])
    postal_code: str = Field(..., min_length=1, description="ZIP or postal code.", examples=["97701"])
    country: str = Field("US", description="ISO country code.", examples=["US"])
    is_default: bool = Field(False, description="Make this the default shipping address.", examples=[True])


class AddressResponse(BaseModel):
    address: AddressModel = Field(..., description="The saved address.")


class OrderItemModel(BaseModel):
    order_item_id: int = Field(..., description="Order line ID.", examples=[8])
    edition_id: int = Field(..., description="Purchased edition ID.", examples=[8])
    book_id: int = Field(..., description="Book ID.", examples=[4])
    title: str = Field(..., description="Book title.", examples=["Piranesi"])
    author_name: str = Field(..., description="Author name.", examples=["Susanna Clarke"])
    format: str = Field(..., description="Edition format.", examples=["hardcover"])
    quantity: int = Field(..., description="Number of copies.", examples=[1])
    unit_price: float = Field(..., description="Price paid per copy in USD.", examples=[27.0])
    line_total: float = Field(..., description="unit_price x quantity.", examples=[27.0])


class OrderSummaryModel(BaseModel):
    id: int = Field(..., description="Order ID.", examples=[6])
    status: str = Field(..., description="Order status: placed, shipped or cancelled.", examples=["placed"])
    placed_at: Optional[datetime] = Field(None, description="When the order was placed (ISO 8601).", examples=["2025-03-01T10:00:00"])
    shipped_at: Optional[datetime] = Field(None, description="When the order shipped, null until it does.", examples=["2025-03-03T15:00:00"])
    cancelled_at: Optional[datetime] = Field(None, description="When the order was cancelled, null unless it was.", examples=["2025-03-02T09:00:00"])
    subtotal: float = Field(..., description="Sum of line totals in USD.", examples=[44.99])
    discount_amount: float = Field(..., description="Promo code discount in USD.", examples=[0.0])
    shipping_fee: float = Field(..., description="Shipping fee in USD.", examples=[4.99])
    total: float = Field(..., description="Amount charged in USD.", examples=[49.98])
    item_count: int = Field(..., description="Total number of copies in the order.", examples=[2])
    items: List[OrderItemModel] = Field(..., description="Order lines.", examples=[[]])


class OrderListResponse(BaseModel):
    orders: List[OrderSummaryModel] = Field(..., description="Orders, most recent first.", examples=[[]])
    total: int = Field(..., description="Number of matching orders before pagination.", examples=[7])


class OrderDetailModel(OrderSummaryModel):
    promo_code: Optional[str] = Field(None, description="Promo code applied to the order, if any.", examples=["SPRING15"])
    cancel_reason: Optional[str] = Field(None, description="Reason given when the order was cancelled.", examples=["Ordered by mistake"])
    shipping_address: AddressModel = Field(..., description="Address the order ships to.")


class OrderResponse(BaseModel):
    order: OrderDetailModel = Field(..., description="Order details.")


class CheckoutBody(BaseModel):
    shipping_address_id: int = Field(..., description="ID of one of my saved shipping addresses.", examples=[1])
    promo_code: Optional[str] = Field(None, description="Promo code to apply (case-insensitive); omit for none.", examples=["SPRING15"])


class CancelOrderBody(BaseModel):
    reason: str = Field(..., min_length=1, description="Why the order is being cancelled.", examples=["Found a copy at my local library"])


class WishlistItemModel(BaseModel):
    wishlist_item_id: int = Field(..., description="Wish list entry ID.", examples=[2])
    book_id: int = Field(..., description="Book ID.", examples=[13])
    title: str = Field(..., description="Book title.", examples=["Klara and the Sun"])
    author_name: str = Field(..., description="Author name.", examples=["Kazuo Ishiguro"])
    preferred_format: Optional[str] = Field(None, description="Format I would like to buy, if noted.", examples=["hardcover"])
    note: Optional[str] = Field(None, description="Personal note.", examples=["Hardcover for the shelf"])
    available_formats: List[str] = Field(..., description="Formats the shop sells for this book.", examples=[["hardcover", "paperback"]])
    added_at: Optional[datetime] = Field(None, description="When the book was added (ISO 8601).", examples=["2025-02-01T10:00:00"])


class WishlistResponse(BaseModel):
    items: List[WishlistItemModel] = Field(..., description="Books on my wish list, newest first.", examples=[[]])


class WishlistItemCreateBody(BaseModel):
    book_id: int = Field(..., description="Book to save to the wish list.", examples=[17])
    preferred_format: Optional[str] = Field(None, description="Preferred format: hardcover, paperback or ebook.", examples=["paperback"])
    note: Optional[str] = Field(None, description="Personal note.", examples=["Recommended by the book club"])


class WishlistItemResponse(BaseModel):
    item: WishlistItemModel = Field(..., description="The saved wish list entry.")


class PromoCodeModel(BaseModel):
    code: str = Field(..., description="Promo code.", examples=["SPRING15"])
    description: Optional[str] = Field(None, description="What the code offers.", examples=["15 percent off orders of 40 dollars or more."])
    discount_type: str = Field(..., description="percent or fixed.", examples=["percent"])
    discount_value: float = Field(..., description="Percent off, or USD off for fixed codes.", examples=[15.0])
    min_subtotal: float = Field(..., description="Minimum cart subtotal in USD required.", examples=[40.0])
    valid_from: Optional[datetime] = Field(None, description="Start of validity (ISO 8601).", examples=["2025-03-01T00:00:00"])
    valid_until: Optional[datetime] = Field(None, description="End of validity (ISO 8601), null if open-ended.", examples=["2025-04-01T00:00:00"])
    is_active: bool = Field(..., description="False if the shop has switched the code off.", examples=[True])
    is_valid_now: bool = Field(..., description="True if the code is active and within its validity window now.", examples=[True])


class PromoCodeResponse(BaseModel):
    promo_code: PromoCodeModel = Field(..., description="Promo code details.")


def build_edition_model(edition: BookEdition) -> EditionModel:
    return EditionModel(
        id=edition.id,
        book_id=edition.book_id,
        format=edition.format,
        isbn=edition.isbn,
        price=money(edition.price),
        stock_quantity=edition.stock_quantity,
        in_stock=edition_in_stock(edition),
    )


def build_address_model(address: ShippingAddress) -> AddressModel:
    return AddressModel(
        id=address.id,
        label=address.label,
        recipient_name=address.recipient_name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
        country=address.country,
        is_default=bool(address.is_default),
        created_at=address.created_at,
    )


def build_review_model(session, review: Review, user_id: int) -> ReviewModel:
    book = session.query(Book).filter(Book.id == review.book_id).first()
    reviewer = session.query(User).filter(User.id == review.user_id).first()
    return ReviewModel(
        id=review.id,
        book_id=review.book_id,
        book_title=book.title if book else "",
        user_id=review.user_id,
        reviewer_name=reviewer.full_name if reviewer else "",
        is_mine=review.user_id == user_id,
        rating=review.rating,
        title=review.title,
        review_text=review.review_text,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


def build_cart_item_model(session, item: CartItem) -> CartItemModel:
    edition, book, author = (
        session.query(BookEdition, Book, Author)
        .join(Book, BookEdition.book_id == Book.id)
        .join(Author, Book.author_id == Author.id)
        .filter(BookEdition.id == item.edition_id)
        .first()
    )
    return CartItemModel(
        cart_item_id=item.id,
        edition_id=edition.id,
        book_id=book.id,
        title=book.title,
        author_name=author.name,
        format=edition.format,
        unit_price=money(edition.price),
        quantity=item.quantity,
        line_total=money(edition.price * item.quantity),
        in_stock=edition_in_stock(edition, item.quantity),
        added_at=item.added_at,
    )


def build_order_items(session, order_id: int) -> List[OrderItemModel]:
    rows = (
        session.query(OrderItem, BookEdition, Book, Author)
        .join(BookEdition, OrderItem.edition_id == BookEdition.id)
        .join(Book, BookEdition.book_id == Book.id)
        .join(Author, Book.author_id == Author.id)
        .filter(OrderItem.order_id == order_id)
        .order_by(OrderItem.id.asc())
        .all()
    )
    return [
        OrderItemModel(
            order_item_id=oi.id,
            edition_id=ed.id,
            book_id=book.id,
            title=book.title,
            author_name=author.name,
            format=ed.format,
            quantity=oi.quantity,
            unit_price=money(oi.unit_price),
            line_total=money(oi.unit_price * oi.quantity),
        )
        for oi, ed, book, author in rows
    ]


def build_order_summary(session, order: Order) -> OrderSummaryModel:
    items = build_order_items(session, order.id)
    return OrderSummaryModel(
        id=order.id,
        status=order.status,
        placed_at=order.placed_at,
        shipped_at=order.shipped_at,
        cancelled_at=order.cancelled_at,
        subtotal=money(order.subtotal),
        discount_amount=money(order.discount_amount),
        shipping_fee=money(order.shipping_fee),
        total=money(order.total),
        item_count=sum(i.quantity for i in items),
        items=items,
    )


def build_order_detail(session, order: Order) -> OrderDetailModel:
    summary = build_order_summary(session, order)
    address = session.query(ShippingAddress).filter(ShippingAddress.id == order.shipping_address_id).first()
    promo = None
    if order.promo_code_id is not None:
        promo = session.query(PromoCode).filter(PromoCode.id == order.promo_code_id).first()
    return OrderDetailModel(
        **summary.model_dump(),
        promo_code=promo.code if promo else None,
        cancel_reason=order.cancel_reason,
        shipping_address=build_address_model(address),
    )


def build_wishlist_item_model(session, item: WishlistItem) -> WishlistItemModel:
    book, author = (
        session.query(Book, Author).join(Author, Book.author_id == Author.id).filter(Book.id == item.book_id).first()
    )
    formats = [e.format for e in session.query(BookEdition).filter(BookEdition.book_id == book.id).all()]
    return WishlistItemModel(
        wishlist_item_id=item.id,
        book_id=book.id,
        title=book.title,
        author_name=author.name,
        preferred_format=item.preferred_format,
        note=item.note,
        available_formats=[f for f in BOOK_FORMATS if f in formats],
        added_at=item.added_at,
    )


def promo_is_valid_now(promo: PromoCode, now: datetime) -> bool:
    if not promo.is_active:
        return False
    if promo.valid_from is not None and promo.valid_from > now:
        return False
    if promo.valid_until is not None and promo.valid_until < now:
        return False
    return True


@app.get(
    "/api/books",
    response_model=BookSearchResponse,
    summary="Search the book catalog",
    description="Search books by title or author name with optional genre, format, stock, price and rating filters and a sort order.",
    tags=["catalog"],
    operation_id="search_books",
)
async def search_books(
    query: Optional[str] = Query(None, description="Case-insensitive partial match on book title or author name.", examples=["Le Guin"]),
    genre: Optional[str] = Query(None, description="Genre name, e.g. Fantasy (case-insensitive).", examples=["Fantasy"]),
    book_format: Optional[str] = Query(None, alias="format", description="Only consider editions in this format: hardcover, paperback or ebook.", examples=["hardcover"]),
    in_stock: Optional[bool] = Query(None, description="If true, only consider editions that are in stock.", examples=[True]),
    max_price: Optional[float] = Query(None, ge=0, description="Only consider editions at or below this price (USD).", examples=[25.0]),
    min_rating: Optional[float] = Query(None, ge=1, le=5, description="Only books whose average rating is at least this value.", examples=[4.0]),
    sort_by: str = Query("title", description="Sort order: title, price_asc, price_desc, rating or newest.", examples=["price_asc"]),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of books to return.", examples=[20]),
    offset: int = Query(0, ge=0, description="Number of books to skip for pagination.", examples=[0]),
) -> BookSearchResponse:
    if book_format is not None and book_format.lower() not in BOOK_FORMATS:
        raise HTTPException(status_code=400, detail="format must be one of: hardcover, paperback, ebook")
    if sort_by not in ("title", "price_asc", "price_desc", "rating", "newest"):
        raise HTTPException(status_code=400, detail="sort_by must be one of: title, price_asc, price_desc, rating, newest")
    session = SessionLocal()
    try:
        q = (
            session.query(Book, Author, Genre)
            .join(Author, Book.author_id == Author.id)
            .join(Genre, Book.genre_id == Genre.id)
        )
        if query:
            q = q.filter(or_(Book.title.ilike(f"%{query}%"), Author.name.ilike(f"%{query}%")))
        if genre:
            q = q.filter(func.lower(Genre.name) == genre.strip().lower())
        rows = q.all()
        book_ids = [b.id for b, _, _ in rows]
        ratings = rating_summary(session, book_ids)
        editions_by_book: Dict[int, List[BookEdition]] = {book_id: [] for book_id in book_ids}
        for edition in (
            session.query(BookEdition)
            .filter(BookEdition.book_id.in_(book_ids))
            .order_by(BookEdition.price.asc(), BookEdition.id.asc())
            .all()
        ):
            editions_by_book[edition.book_id].append(edition)
        edition_filter = book_format is not None or bool(in_stock) or max_price is not None
        results: List[BookSummaryModel] = []
        for book, author, genre_row in rows:
            editions = editions_by_book[book.id]
            if book_format is not None:
                editions = [e for e in editions if e.format == book_format.lower()]
            if in_stock:
                editions = [e for e in editions if edition_in_stock(e)]
            if max_price is not None:
                editions = [e for e in editions if e.price <= max_price]
            if edition_filter and not editions:
                continue
            avg_rating, review_count = ratings[book.id]
            if min_rating is not None and (avg_rating is None or avg_rating < min_rating):
                continue
            results.append(
                BookSummaryModel(
                    id=book.id,
                    title=book.title,
                    author_id=author.id,
                    author_name=author.name,
                    genre_id=genre_row.id,
                    genre_name=genre_row.name,
                    publication_year=book.publication_year,
                    average_rating=avg_rating,
                    review_count=review_count,
                    lowest_price=money(min(e.price for e in editions)) if editions else None,
                    editions=[build_edition_model(e) for e in editions],
                )
            )
        if sort_by == "title":
            results.sort(key=lambda b: (b.title.lower(), b.id))
        elif sort_by == "price_asc":
            results.sort(key=lambda b: (b.lowest_price is None, b.lowest_price or 0.0, b.id))
        elif sort_by == "price_desc":
            results.sort(key=lambda b: (b.lowest_price is None, -(b.lowest_price or 0.0), b.id))
        elif sort_by == "rating":
            results.sort(key=lambda b: (b.average_rating is None, -(b.average_rating or 0.0), -b.review_count, b.id))
        else:
            results.sort(key=lambda b: (b.publication_year is None, -(b.publication_year or 0), b.id))
        return BookSearchResponse(books=results[offset : offset + limit], total=len(results))
    finally:
        session.close()


@app.get(
    "/api/books/{book_id}",
    response_model=BookDetailResponse,
    summary="Get book details",
    description="Get a book with its author, genre, rating summary and every edition (format, ISBN, price, stock).",
    tags=["catalog"],
    operation_id="get_book_details",
)
async def get_book_details(
    book_id: int = Path(..., description="ID of the book.", examples=[1]),
) -> BookDetailResponse:
    session = SessionLocal()
    try:
        row = (
            session.query(Book, Author, Genre)
            .join(Author, Book.author_id == Author.id)
            .join(Genre, Book.genre_id == Genre.id)
            .filter(Book.id == book_id)
            .first()
        )
        if row is None:
            raise HTTPException(status_code=404, detail=f"Book {book_id} not found")
        book, author, genre_row = row
        editions = session.query(BookEdition).filter(BookEdition.book_id == book.id).all()
        editions.sort(key=lambda e: BOOK_FORMATS.index(e.format) if e.format in BOOK_FORMATS else 99)
        avg_rating, review_count = rating_summary(session, [book.id])[book.id]
        detail = BookDetailModel(
            id=book.id,
            title=book.title,
            author=AuthorModel(id=author.id, name=author.name, bio=author.bio, birth_year=author.birth_year),
            genre_id=genre_row.id,
            genre_name=genre_row.name,
            publisher=book.publisher,
            publication_year=book.publication_year,
            page_count=book.page_count,
            description=book.description,
            average_rating=avg_rating,
            review_count=review_count,
            editions=[build_edition_model(e) for e in editions],
        )
        return BookDetailResponse(book=detail)
    finally:
        session.close()


@app.get(
    "/api/genres",
    response_model=GenreListResponse,
    summary="List genres",
    description="List all genres (shelf sections) with the number of books in each.",
    tags=["catalog"],
    operation_id="list_genres",
)
async def list_genres() -> GenreListResponse:
    session = SessionLocal()
    try:
        counts = dict(session.query(Book.genre_id, func.count(Book.id)).group_by(Book.genre_id).all())
        genres = session.query(Genre).order_by(Genre.name.asc()).all()
        return GenreListResponse(
            genres=[
                GenreModel(id=g.id, name=g.name, description=g.description, book_count=int(counts.get(g.id, 0)))
                for g in genres
            ]
        )
    finally:
        session.close()


@app.get(
    "/api/books/{book_id}/reviews",
    response_model=ReviewListResponse,
    summary="List reviews of a book",
    description="List customer reviews of a book with its average rating; reviews written by me are flagged with is_mine.",
    tags=["reviews"],
    operation_id="list_book_reviews",
)
async def list_book_reviews(
    book_id: int = Path(..., description="ID of the book.", examples=[10]),
    sort_by: str = Query("newest", description="Sort order: newest, highest or lowest.", examples=["newest"]),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of reviews to return.", examples=[20]),
) -> ReviewListResponse:
    if sort_by not in ("newest", "highest", "lowest"):
        raise HTTPException(status_code=400, detail="sort_by must be one of: newest, highest, lowest")
    session = SessionLocal()
    try:
        user_id = 1
        book = session.query(Book).filter(Book.id == book_id).first()
        if book is None:
            raise HTTPException(status_code=404, detail=f"Book {book_id} not found")
        q = session.query(Review).filter(Review.book_id == book_id)
        if sort_by == "highest":
            q = q.order_by(Review.rating.desc(), Review.created_at.desc())
        elif sort_by == "lowest":
            q = q.order_by(Review.rating.asc(), Review.created_at.desc())
        else:
            q = q.order_by(Review.created_at.desc(), Review.id.desc())
        reviews = q.limit(limit).all()
        avg_rating, review_count = rating_summary(session, [book_id])[book_id]
        return ReviewListResponse(
            book_id=book.id,
            book_title=book.title,
            average_rating=avg_rating,
            review_count=review_count,
            reviews=[build_review_model(session, r, user_id) for r in reviews],
        )
    finally:
        session.close()


@app.post(
    "/api/books/{book_id}/reviews",
    response_model=ReviewResponse,
    status_code=201,
    summary="Write a review",
    description="Post my rating and review for a book. Each customer can review a book once; edit an existing review instead.",
    tags=["reviews"],
    operation_id="create_book_review",
)
async def create_book_review(
    book_id: int = Path(..., description="ID of the book to review.", examples=[8]),
    body: ReviewCreateBody = Body(..., description="Rating, headline and text of the review."),
) -> ReviewResponse:
    session = SessionLocal()
    try:
        user_id = 1
        book = session.query(Book).filter(Book.id == book_id).first()
        if book is None:
            raise HTTPException(status_code=404, detail=f"Book {book_id} not found")
        existing = session.query(Review).filter(Review.book_id == book_id, Review.user_id == user_id).first()
        if existing is not None:
            raise HTTPException(status_code=409, detail=f"You already reviewed this book (review {existing.id}); update it instead")
        now = now_utc()
        review = Review(
            book_id=book_id,
            user_id=user_id,
            rating=body.rating,
            title=body.title.strip(),
            review_text=body.review_text,
            created_at=now,
            updated_at=now,
        )
        session.add(review)
        session.commit()
        return ReviewResponse(review=build_review_model(session, review, user_id))
    finally:
        session.close()


@app.patch(
    "/api/reviews/{review_id}",
    response_model=ReviewResponse,
    summary="Edit my review",
    description="Change the rating, headline or text of a review I wrote. Fields left out stay unchanged.",
    tags=["reviews"],
    operation_id="update_my_review",
)
async def update_my_review(
    review_id: int = Path(..., description="ID of my review.", examples=[5]),
    body: ReviewUpdateBody = Body(..., description="Fields to change."),
) -> ReviewResponse:
    session = SessionLocal()
    try:
        user_id = 1
        review = session.query(Review).filter(Review.id == review_id, Review.user_id == user_id).first()
        if review is None:
            raise HTTPException(status_code=404, detail=f"Review {review_id} not found among your reviews")
        if body.rating is None and body.title is None and body.review_text is None:
            raise HTTPException(status_code=400, detail="Provide at least one of rating, title or review_text")
        if body.rating is not None:
            review.rating = body.rating
        if body.title is not None:
            review.title = body.title.strip()
        if body.review_text is not None:
            review.review_text = body.review_text
        review.updated_at = now_utc()
        session.commit()
        return ReviewResponse(review=build_review_model(session, review, user_id))
    finally:
        session.close()


@app.get(
    "/api/cart",
    response_model=CartResponse,
    summary="View my cart",
    description="List the lines in my shopping cart with current prices, stock status and the subtotal.",
    tags=["cart"],
    operation_id="get_cart",
)
async def get_cart() -> CartResponse:
    session = SessionLocal()
    try:
        user_id = 1
        items = session.query(CartItem).filter(CartItem.user_id == user_id).order_by(CartItem.added_at.asc(), CartItem.id.asc()).all()
        lines = [build_cart_item_model(session, i) for i in items]
        return CartResponse(
            items=lines,
            item_count=sum(line.quantity for line in lines),
            subtotal=money(sum(line.line_total for line in lines)),
        )
    finally:
        session.close()


@app.post(
    "/api/cart/items",
    response_model=CartItemResponse,
    status_code=201,
    summary="Add a book edition to my cart",
    description="Add copies of a specific edition (format) to my cart. If the edition is already in the cart, the quantity is increased. Ebooks are limited to one copy.",
    tags=["cart"],
    operation_id="add_cart_item",
)
async def add_cart_item(
    body: CartItemCreateBody = Body(..., description="Edition and number of copies to add."),
) -> CartItemResponse:
    session = SessionLocal()
    try:
        user_id = 1
        edition = session.query(BookEdition).filter(BookEdition.id == body.edition_id).first()
        if edition is None:
            raise HTTPException(status_code=404, detail=f"Edition {body.edition_id} not found")
        item = session.query(CartItem).filter(CartItem.user_id == user_id, CartItem.edition_id == edition.id).first()
        new_quantity = body.quantity + (item.quantity if item else 0)
        if edition.format == "ebook" and new_quantity > 1:
            raise HTTPException(status_code=400, detail="Ebooks can only be bought one copy at a time")
        if not edition_in_stock(edition, new_quantity):
            raise HTTPException(status_code=400, detail=stock_error(edition))
        if item is None:
            item = CartItem(user_id=user_id, edition_id=edition.id, quantity=new_quantity, added_at=now_utc())
            session.add(item)
        else:
            item.quantity = new_quantity
        session.commit()
        return CartItemResponse(item=build_cart_item_model(session, item))
    finally:
        session.close()


@app.patch(
    "/api/cart/items/{cart_item_id}",
    response_model=CartItemResponse,
    summary="Change the quantity of a cart line",
    description="Set the number of copies for one line in my cart (at least 1; remove the line to drop it).",
    tags=["cart"],
    operation_id="update_cart_item",
)
async def update_cart_item(
    cart_item_id: int = Path(..., description="ID of the cart line.", examples=[2]),
    body: CartItemUpdateBody = Body(..., description="New quantity."),
) -> CartItemResponse:
    session = SessionLocal()
    try:
        user_id = 1
        item = session.query(CartItem).filter(CartItem.id == cart_item_id, CartItem.user_id == user_id).first()
        if item is None:
            raise HTTPException(status_code=404, detail=f"Cart item {cart_item_id} not found")
        edition = session.query(BookEdition).filter(BookEdition.id == item.edition_id).first()
        if edition.format == "ebook" and body.quantity > 1:
            raise HTTPException(status_code=400, detail="Ebooks can only be bought one copy at a time")
        if not edition_in_stock(edition, body.quantity):
            raise HTTPException(status_code=400, detail=stock_error(edition))
        item.quantity = body.quantity
        session.commit()
        return CartItemResponse(item=build_cart_item_model(session, item))
    finally:
        session.close()


@app.delete(
    "/api/cart/items/{cart_item_id}",
    response_model=StatusResponse,
    summary="Remove a line from my cart",
    description="Remove one line (all its copies) from my cart.",
    tags=["cart"],
    operation_id="remove_cart_item",
)
async def remove_cart_item(
    cart_item_id: int = Path(..., description="ID of the cart line to remove.", examples=[2]),
) -> StatusResponse:
    session = SessionLocal()
    try:
        user_id = 1
        item = session.query(CartItem).filter(CartItem.id == cart_item_id, CartItem.user_id == user_id).first()
        if item is None:
            raise HTTPException(status_code=404, detail=f"Cart item {cart_item_id} not found")
        session.delete(item)
        session.commit()
        return StatusResponse(status="removed", id=cart_item_id)
    finally:
        session.close()


@app.post(
    "/api/orders",
    response_model=OrderResponse,
    status_code=201,
    summary="Check out my cart",
    description=(
        "Place an order for everything in my cart, shipped to one of my saved addresses, optionally with a promo code. "
        f"Shipping is {STANDARD_SHIPPING_FEE:.2f} USD, free for ebook-only orders or when the discounted subtotal is at least "
        f"{FREE_SHIPPING_THRESHOLD:.2f} USD. Stock is reserved and the cart is emptied."
    ),
    tags=["orders", "cart"],
    operation_id="checkout_cart",
)
async def checkout_cart(
    body: CheckoutBody = Body(..., description="Shipping address and optional promo code."),
) -> OrderResponse:
    session = SessionLocal()
    try:
        user_id = 1
        cart_items = session.query(CartItem).filter(CartItem.user_id == user_id).order_by(CartItem.id.asc()).all()
        if not cart_items:
            raise HTTPException(status_code=400, detail="Your cart is empty")
        address = (
            session.query(ShippingAddress)
            .filter(ShippingAddress.id == body.shipping_address_id, ShippingAddress.user_id == user_id)
            .first()
        )
        if address is None:
            raise HTTPException(status_code=404, detail=f"Shipping address {body.shipping_address_id} not found")
        lines = []
        for item in cart_items:
            edition = session.query(BookEdition).filter(BookEdition.id == item.edition_id).first()
            if not edition_in_stock(edition, item.quantity):
                raise HTTPException(status_code=409, detail=f"Edition {edition.id}: {stock_error(edition)}")
            lines.append((item, edition))
        subtotal = money(sum(edition.price * item.quantity for item, edition in lines))
        now = now_utc()
        promo = None
        discount = 0.0
        if body.promo_code:
            promo = session.query(PromoCode).filter(func.upper(PromoCode.code) == body.promo_code.strip().upper()).first()
            if promo is None:
                raise HTTPException(status_code=404, detail=f"Promo code {body.promo_code} not found")
            if not promo_is_valid_now(promo, now):
                raise HTTPException(status_code=400, detail=f"Promo code {promo.code} is not valid right now")
            if subtotal < promo.min_subtotal:
                raise HTTPException(
                    status_code=400,
                    detail=f"Promo code {promo.code} requires a subtotal of at least {promo.min_subtotal:.2f} USD",
                )
            if promo.discount_type == "percent":
                discount = money(subtotal * promo.discount_value / 100.0)
            else:
                discount = money(min(promo.discount_value, subtotal))
        all_digital = all(edition.format == "ebook" for _, edition in lines)
        shipping_fee = 0.0 if all_digital or subtotal - discount >= FREE_SHIPPING_THRESHOLD else STANDARD_SHIPPING_FEE
        order = Order(
            user_id=user_id,
            shipping_address_id=address.id,
            promo_code_id=promo.id if promo else None,
            status="placed",
            subtotal=subtotal,
            discount_amount=discount,
            shipping_fee=shipping_fee,
            total=money(subtotal - discount + shipping_fee),
            placed_at=now,
            updated_at=now,
        )
        session.add(order)
        session.flush()
        for item, edition in lines:
            session.add(OrderItem(order_id=order.id, edition_id=edition.id, quantity=item.quantity, unit_price=money(edition.price)))
            if edition.stock_quantity is not None:
                edition.stock_quantity = edition.stock_quantity - item.quantity
                edition.updated_at = now
            session.delete(item)
        session.commit()
        return OrderResponse(order=build_order_detail(session, order))
    finally:
        session.close()


@app.get(
    "/api/orders",
    response_model=OrderListResponse,
    summary="List my orders",
    description="List my orders, most recent first, with their lines and totals; optionally filter by status.",
    tags=["orders"],
    operation_id="list_orders",
)
async def list_orders(
    status: Optional[str] = Query(None, description="Filter by status: placed, shipped or cancelled.", examples=["shipped"]),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of orders to return.", examples=[20]),
    offset: int = Query(0, ge=0, description="Number of orders to skip for pagination.", examples=[0]),
) -> OrderListResponse:
    if status is not None and status not in ORDER_STATUSES:
        raise HTTPException(status_code=400, detail="status must be one of: placed, shipped, cancelled")
    session = SessionLocal()
    try:
        user_id = 1
        q = session.query(Order).filter(Order.user_id == user_id)
        if status is not None:
            q = q.filter(Order.status == status)
        total = q.count()
        orders = q.order_by(Order.placed_at.desc(), Order.id.desc()).offset(offset).limit(limit).all()
        return OrderListResponse(orders=[build_order_summary(session, o) for o in orders], total=total)
    finally:
        session.close()


@app.get(
    "/api/orders/{order_id}",
    response_model=OrderResponse,
    summary="Get order details",
    description="Get one of my orders with its lines, shipping address, promo code, totals and status history.",
    tags=["orders"],
    operation_id="get_order_details",
)
async def get_order_details(
    order_id: int = Path(..., description="ID of the order.", examples=[6]),
) -> OrderResponse:
    session = SessionLocal()
    try:
        user_id = 1
        order = session.query(Order).filter(Order.id == order_id, Order.user_id == user_id).first()
        if order is None:
            raise HTTPException(status_code=404, detail=f"Order {order_id} not found")
        return OrderResponse(order=build_order_detail(session, order))
    finally:
        session.close()


@app.post(
    "/api/orders/{order_id}/cancel",
    response_model=OrderResponse,
    summary="Cancel an order",
    description="Cancel one of my orders that has not shipped yet (status placed). The copies go back into stock.",
    tags=["orders"],
    operation_id="cancel_order",
)
async def cancel_order(
    order_id: int = Path(..., description="ID of the order to cancel.", examples=[6]),
    body: CancelOrderBody = Body(..., description="Cancellation reason."),
) -> OrderResponse:
    session = SessionLocal()
    try:
        user_id = 1
        order = session.query(Order).filter(Order.id == order_id, Order.user_id == user_id).first()
        if order is None:
            raise HTTPException(status_code=404, detail=f"Order {order_id} not found")
        if order.status != "placed":
            raise HTTPException(status_code=409, detail=f"Order {order_id} is {order.status} and can no longer be cancelled")
        now = now_utc()
        for oi in session.query(OrderItem).filter(OrderItem.order_id == order.id).all():
            edition = session.query(BookEdition).filter(BookEdition.id == oi.edition_id).first()
            if edition is not None and edition.stock_quantity is not None:
                edition.stock_quantity = edition.stock_quantity + oi.quantity
                edition.updated_at = now
        order.status = "cancelled"
        order.cancel_reason = body.reason.strip()
        order.cancelled_at = now
        order.updated_at = now
        session.commit()
        return OrderResponse(order=build_order_detail(session, order))
    finally:
        session.close()


@app.get(
    "/api/wishlist",
    response_model=WishlistResponse,
    summary="View my wish list",
    description="List the books on my wish list with my preferred format and notes.",
    tags=["wishlist"],
    operation_id="get_wishlist",
)
async def get_wishlist() -> WishlistResponse:
    session = SessionLocal()
    try:
        user_id = 1
        items = (
            session.query(WishlistItem)
            .filter(WishlistItem.user_id == user_id)
            .order_by(WishlistItem.added_at.desc(), WishlistItem.id.desc())
            .all()
        )
        return WishlistResponse(items=[build_wishlist_item_model(session, i) for i in items])
    finally:
        session.close()


@app.post(
    "/api/wishlist/items",
    response_model=WishlistItemResponse,
    status_code=201,
    summary="Add a book to my wish list",
    description="Save a book to my wish list, optionally with a preferred format and a note.",
    tags=["wishlist"],
    operation_id="add_wishlist_item",
)
async def add_wishlist_item(
    body: WishlistItemCreateBody = Body(..., description="Book, preferred format and note."),
) -> WishlistItemResponse:
    session = SessionLocal()
    try:
        user_id = 1
        book = session.query(Book).filter(Book.id == body.book_id).first()
        if book is None:
            raise HTTPException(status_code=404, detail=f"Book {body.book_id} not found")
        preferred = body.preferred_format.lower() if body.preferred_format else None
        if preferred is not None:
            if preferred not in BOOK_FORMATS:
                raise HTTPException(status_code=400, detail="preferred_format must be one of: hardcover, paperback, ebook")
            offered = session.query(BookEdition).filter(BookEdition.book_id == book.id, BookEdition.format == preferred).first()
            if offered is None:
                raise HTTPException(status_code=400, detail=f"'{book.title}' is not sold as {preferred}")
        existing = session.query(WishlistItem).filter(WishlistItem.user_id == user_id, WishlistItem.book_id == book.id).first()
        if existing is not None:
            raise HTTPException(status_code=409, detail=f"'{book.title}' is already on your wish list")
        item = WishlistItem(user_id=user_id, book_id=book.id, preferred_format=preferred, note=body.note, added_at=now_utc())
        session.add(item)
        session.commit()
        return WishlistItemResponse(item=build_wishlist_item_model(session, item))
    finally:
        session.close()


@app.delete(
    "/api/wishlist/items/{wishlist_item_id}",
    response_model=StatusResponse,
    summary="Remove a book from my wish list",
    description="Delete one entry from my wish list.",
    tags=["wishlist"],
    operation_id="remove_wishlist_item",
)
async def remove_wishlist_item(
    wishlist_item_id: int = Path(..., description="ID of the wish list entry.", examples=[2]),
) -> StatusResponse:
    session = SessionLocal()
    try:
        user_id = 1
        item = session.query(WishlistItem).filter(WishlistItem.id == wishlist_item_id, WishlistItem.user_id == user_id).first()
        if item is None:
            raise HTTPException(status_code=404, detail=f"Wish list item {wishlist_item_id} not found")
        session.delete(item)
        session.commit()
        return StatusResponse(status="removed", id=wishlist_item_id)
    finally:
        session.close()


@app.get(
    "/api/addresses",
    response_model=AddressListResponse,
    summary="List my shipping addresses",
    description="List my saved shipping addresses; the default address comes first.",
    tags=["addresses"],
    operation_id="list_shipping_addresses",
)
async def list_shipping_addresses() -> AddressListResponse:
    session = SessionLocal()
    try:
        user_id = 1
        addresses = (
            session.query(ShippingAddress)
            .filter(ShippingAddress.user_id == user_id)
            .order_by(ShippingAddress.is_default.desc(), ShippingAddress.id.asc())
            .all()
        )
        return AddressListResponse(addresses=[build_address_model(a) for a in addresses])
    finally:
        session.close()


@app.post(
    "/api/addresses",
    response_model=AddressResponse,
    status_code=201,
    summary="Add a shipping address",
    description="Save a new shipping address. With is_default true it replaces my current default address.",
    tags=["addresses"],
    operation_id="create_shipping_address",
)
async def create_shipping_address(
    body: AddressCreateBody = Body(..., description="Address to save."),
) -> AddressResponse:
    session = SessionLocal()
    try:
        user_id = 1
        existing = session.query(ShippingAddress).filter(ShippingAddress.user_id == user_id).all()
        make_default = body.is_default or not existing
        if make_default:
            for a in existing:
                if a.is_default:
                    a.is_default = 0
            session.flush()
        address = ShippingAddress(
            user_id=user_id,
            label=body.label.strip(),
            recipient_name=body.recipient_name.strip(),
            line1=body.line1.strip(),
            line2=body.line2.strip() if body.line2 else None,
            city=body.city.strip(),
            state=body.state.strip(),
            postal_code=body.postal_code.strip(),
            country=(body.country or "US").strip(),
            is_default=1 if make_default else 0,
            created_at=now_utc(),
        )
        session.add(address)
        session.commit()
        return AddressResponse(address=build_address_model(address))
    finally:
        session.close()


@app.get(
    "/api/promo-codes/{code}",
    response_model=PromoCodeResponse,
    summary="Look up a promo code",
    description="Check what a promo code offers, its minimum subtotal and whether it can be used right now.",
    tags=["promotions"],
    operation_id="get_promo_code",
)
async def get_promo_code(
    code: str = Path(..., description="Promo code (case-insensitive).", examples=["SPRING15"]),
) -> PromoCodeResponse:
    session = SessionLocal()
    try:
        promo = session.query(PromoCode).filter(func.upper(PromoCode.code) == code.strip().upper()).first()
        if promo is None:
            raise HTTPException(status_code=404, detail=f"Promo code {code} not found")
        return PromoCodeResponse(
            promo_code=PromoCodeModel(
                code=promo.code,
                description=promo.description,
                discount_type=promo.discount_type,
                discount_value=promo.discount_value,
                min_subtotal=money(promo.min_subtotal),
                valid_from=promo.valid_from,
                valid_until=promo.valid_until,
                is_active=bool(promo.is_active),
                is_valid_now=promo_is_valid_now(promo, now_utc()),
            )
        )
    finally:
        session.close()


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
