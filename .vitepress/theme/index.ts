import type { Theme } from 'vitepress'
import DefaultTheme from 'vitepress/theme'
import TwoslashFloatingVue from '@shikijs/vitepress-twoslash/client'
import '@shikijs/vitepress-twoslash/style.css'
import './book.css'
import BookPicture from './BookPicture.vue'
import ClaimsLedger from './ClaimsLedger.vue'
import ClaimsSummary from './ClaimsSummary.vue'
import InlineCode from './InlineCode.vue'
import PerfBars from './PerfBars.vue'
import PerfRow from './PerfRow.vue'
import ShutdownTimeline from './ShutdownTimeline.vue'

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.use(TwoslashFloatingVue)
    app.component('BookPicture', BookPicture)
    app.component('ClaimsLedger', ClaimsLedger)
    app.component('ClaimsSummary', ClaimsSummary)
    app.component('InlineCode', InlineCode)
    app.component('PerfBars', PerfBars)
    app.component('PerfRow', PerfRow)
    app.component('ShutdownTimeline', ShutdownTimeline)
  },
} satisfies Theme
