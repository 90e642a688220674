"""What customers and agents write in cases, per category (in ``vocab.CASE_CATEGORIES`` order)."""

from __future__ import annotations

SUBJECTS = (
    ("Charged twice this month", "Question about my invoice", "Refund not received"),
    ("Where is my order?", "Parcel not delivered", "Delivery is late"),
    ("App crashes on launch", "App keeps crashing", "Crash when opening camera view"),
    ("Can't log in", "Password reset not working", "Locked out of my account"),
    ("Device stopped working", "Faulty thermostat", "Camera image is blurry"),
    ("How do I return an item?", "Return label request", "Refund for returned item"),
    ("Help setting up my hub", "Device won't pair", "Wi-Fi setup fails"),
)
FIRST_MESSAGES = (
    (
        "Hi, I was charged twice for my subscription this month. Can you refund one of them?",
        "My invoice shows fees I don't recognise, please explain.",
        "I returned an item three weeks ago and still have no refund.",
    ),
    (
        "My order was supposed to arrive last week and the tracking hasn't moved.",
        "The carrier says delivered but there is no parcel.",
        "Can you tell me when my order will arrive?",
    ),
    (
        "The app crashes as soon as I open it since the last update.",
        "Every time I open the camera view the app closes.",
        "The app crashes when I try to log in, I can't control anything.",
    ),
    (
        "I can't log in to my account, the reset email never arrives.",
        "My account is locked after too many attempts.",
        "The app says my password is wrong but it isn't.",
    ),
    (
        "My thermostat stopped responding after a week.",
        "The camera picture is blurry even after cleaning.",
        "The speaker turns itself off randomly.",
    ),
    (
        "I'd like to return a product, how does that work?",
        "Can you send me a return label?",
        "I sent my return back, when do I get my money?",
    ),
    (
        "I can't get the hub to pair with my phone.",
        "The setup gets stuck at the Wi-Fi step.",
        "How do I add a second device to my home?",
    ),
)
SOLUTIONS = (
    (
        "I've refunded the duplicate charge, you'll see it in 3-5 days.",
        "I've corrected your invoice and sent a new copy.",
    ),
    (
        "Your parcel is back on track and will arrive tomorrow.",
        "We've sent a replacement order by express delivery.",
    ),
    (
        "Our fix is live: please update the app to the latest version.",
        "Reinstalling the app clears the crash, the update is out now.",
    ),
    ("I've unlocked your account and sent a fresh reset link.", "Your login works again, please try now."),
    ("We're sending you a replacement device.", "A firmware reset fixed it on our side, please try again."),
    ("Here is your return label; the refund follows once it arrives.", "Your refund has been issued."),
    (
        "Resetting the hub and re-pairing fixed it, as discussed.",
        "Here is the setup guide with the steps we went through.",
    ),
)
FIRST_REPLIES = (
    "Thanks for getting in touch, I'm looking into this now.",
    "Sorry for the trouble! Let me check what happened.",
    "Thanks for your message, I'll help you with this.",
    "Hi, thanks for reaching out. I'm on it.",
)
INFO_REQUESTS = (
    "Could you send me your order number?",
    "Could you send a screenshot of the error?",
    "Can you confirm the email address on your account?",
    "Which app version are you using?",
)
CUSTOMER_INFO = (
    "Here's the screenshot you asked for.",
    "My order number is in the attachment.",
    "It's the same email I'm writing from.",
    "I'm on the latest version, I just checked.",
)
REOPENED = (
    "It's happening again, please reopen.",
    "This isn't fixed, same problem as before.",
    "The issue came back today.",
)
HANDOFF_NOTES = (
    "Needs a specialist, handing over.",
    "Outside what I can do here, passing it on.",
    "Customer needs the right team for this.",
)
STALL_NOTES = (
    "Escalated to engineering, waiting for a fix.",
    "Waiting on the carrier's investigation.",
    "Waiting for the replacement part to come in.",
)
