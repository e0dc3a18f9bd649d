"""Send three support requests through the example router (the third is a cache hit)."""

from __future__ import annotations

from support_router import Router

QUESTIONS = (
    "How do I reset my password?",
    "Why was I billed twice?",
    "How do I reset my password?",
)


def main() -> None:
    router = Router()
    for question in QUESTIONS:
        answer = router.handle({"operation": "standard", "question": question})
        print(f"{question} -> {answer[:60]}")


if __name__ == "__main__":
    main()
