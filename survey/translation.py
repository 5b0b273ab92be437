from modeltranslation.translator import TranslationOptions, register

from .models import Country, Item, Question, Sector, Wave


@register(Wave)
class WaveTranslation(TranslationOptions):
    fields = ("title",)


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("label",)


@register(Item)
class ItemTranslation(TranslationOptions):
    fields = ("label",)


@register(Sector)
class SectorTranslation(TranslationOptions):
    fields = ("label",)


@register(Country)
class CountryTranslation(TranslationOptions):
    fields = ("name",)
